-- Read, or take a lease on a miss. KEYS[1] entry; ARGV[1] lease token, ARGV[2] lease TTL in ms.
-- Returns the current value, or nil when the caller now holds the lease and should fill.
local cur = redis.call('GET', KEYS[1])
if cur then return cur end
redis.call('SET', KEYS[1], 'L|' .. ARGV[1], 'PX', ARGV[2])
return false
