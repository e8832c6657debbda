-- Marks an activity's Bloom filter ready once every claimer is in it. KEYS[1] the filter; ARGV[1]
-- bits, ARGV[2] hashes: only the filter of that size (another build may have replaced it).
-- Returns 1 marked, 0 not (no such filter).
local header = redis.call('GETRANGE', KEYS[1], 0, 63)
local m, k = string.match(header, '^B|(%d+)|(%d+)|')
if m ~= ARGV[1] or k ~= ARGV[2] then return 0 end
local at = #('B|' .. m .. '|' .. k .. '|')
redis.call('SETRANGE', KEYS[1], at, 'r')
return 1
