-- Read, or on a miss ask the Bloom filter (bloom.lua), or take a lease: lease.lua with the filter
-- in between, for a single Redis (the two keys may be in different slots of a Cluster). KEYS[1]
-- entry, KEYS[2] the activity's filter; ARGV[1] lease token, ARGV[2] lease TTL in ms, ARGV[3]
-- user id, ARGV[4] placeholder TTL in ms. Returns the current value; 'P|0' when the filter is
-- ready and the user is certainly not a claimer (the placeholder is written too: the key is
-- absent, and a claim's entry outranks it); or nil when the caller now holds the lease and should fill.
local cur = redis.call('GET', KEYS[1])
if cur then return cur end
local m, k, state = bloom_header(KEYS[2])
if m and state == 'r' and not bloom_has(KEYS[2], m, k, ARGV[3]) then
  redis.call('SET', KEYS[1], 'P|0', 'PX', ARGV[4])
  return 'P|0'
end
redis.call('SET', KEYS[1], 'L|' .. ARGV[1], 'PX', ARGV[2])
return false
