-- Adds claimers to an activity's Bloom filter (bloom.lua). KEYS[1] the filter; ARGV user ids.
-- Returns 1, or 0 when the activity has no filter (nothing to add to).
local m, k = bloom_header(KEYS[1])
if not m then return 0 end
for j = 1, #ARGV do
  bloom_bits(m, k, ARGV[j], function(bit) redis.call('SETBIT', KEYS[1], bit, 1) end)
end
return 1
