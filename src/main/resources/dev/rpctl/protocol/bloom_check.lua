-- Asks an activity's Bloom filter (bloom.lua) about users. KEYS[1] the filter; ARGV user ids.
-- Returns per user 1 maybe a claimer, 2 certainly not; or one 0 when the activity has no filter
-- ready (being built, or none), which answers nothing.
local m, k, state = bloom_header(KEYS[1])
if not m or state ~= 'r' then return {0} end
local out = {}
for j = 1, #ARGV do
  out[j] = bloom_has(KEYS[1], m, k, ARGV[j]) and 1 or 2
end
return out
