-- Compare-and-swap on the exact value, for repairs. KEYS[1] entry; ARGV[1] the value the caller
-- compared with the primary ('' for absent), ARGV[2] new value ('' to delete), ARGV[3] TTL in ms.
-- Anything written since the comparison makes it a no-op, so a repair never undoes a newer write.
local cur = redis.call('GET', KEYS[1])
if (cur or '') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
