-- Starts (or keeps) an activity's Bloom filter. KEYS[1] the filter; ARGV[1] bits, ARGV[2] hashes,
-- ARGV[3] TTL in ms. A filter of the same size is kept as it is (adding again is harmless, and a
-- ready one stays ready); otherwise a new empty one is written in state b (building), which
-- writers add to and readers do not use until bloom_ready.lua marks it r. Returns 1 new, 0 kept.
local header = redis.call('GETRANGE', KEYS[1], 0, 63)
local m, k = string.match(header, '^B|(%d+)|(%d+)|')
if m == ARGV[1] and k == ARGV[2] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 0
end
local h = 'B|' .. ARGV[1] .. '|' .. ARGV[2] .. '|b|'
redis.call('SET', KEYS[1], h .. string.rep('.', 64 - #h), 'PX', ARGV[3])
return 1
