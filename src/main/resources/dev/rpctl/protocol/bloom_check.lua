-- Asks an activity's Bloom filter about users. KEYS[1] the filter; ARGV user ids (positions as
-- in bloom_add.lua). Returns per user 1 maybe a claimer, 2 certainly not; or one 0 when the
-- activity has no filter ready (being built, or none), which answers nothing.
local header = redis.call('GETRANGE', KEYS[1], 0, 63)
local m, k, state = string.match(header, '^B|(%d+)|(%d+)|(%a)')
if not m or state ~= 'r' then return {0} end
m = tonumber(m)
k = tonumber(k)
local out = {}
for j = 1, #ARGV do
  local h = redis.sha1hex(ARGV[j])
  local h1 = tonumber(string.sub(h, 1, 8), 16)
  local h2 = tonumber(string.sub(h, 9, 16), 16)
  local all = 1
  for i = 0, k - 1 do
    if redis.call('GETBIT', KEYS[1], 512 + (h1 + i * h2) % m) == 0 then all = 2 break end
  end
  out[j] = all
end
return out
