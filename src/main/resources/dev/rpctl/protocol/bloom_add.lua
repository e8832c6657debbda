-- Adds claimers to an activity's Bloom filter. KEYS[1] the filter; ARGV user ids.
-- The filter is one string: a 64-byte header "B|<bits>|<hashes>|<state>" (state b building,
-- r ready) and the bits after it. A user's k bit positions come from the SHA-1 of its id: h1 and
-- h2 are its first two 32-bit words, position i is (h1 + i*h2) mod bits (exact in a double).
-- Returns 1, or 0 when the activity has no filter (nothing to add to).
local header = redis.call('GETRANGE', KEYS[1], 0, 63)
local m, k = string.match(header, '^B|(%d+)|(%d+)|')
if not m then return 0 end
m = tonumber(m)
k = tonumber(k)
for j = 1, #ARGV do
  local h = redis.sha1hex(ARGV[j])
  local h1 = tonumber(string.sub(h, 1, 8), 16)
  local h2 = tonumber(string.sub(h, 9, 16), 16)
  for i = 0, k - 1 do
    redis.call('SETBIT', KEYS[1], 512 + (h1 + i * h2) % m, 1)
  end
end
return 1
