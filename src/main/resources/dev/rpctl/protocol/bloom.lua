-- The Bloom filter of an activity's claimers, put in front of every bloom script (see Scripts).
-- The filter is one string: a 64-byte header "B|<bits>|<hashes>|<state>" (state b building, r
-- ready) and the bits after it. A user's k bit positions come from the SHA-1 of its id: h1 and h2
-- are its first two 32-bit words, position i is (h1 + i*h2) mod bits (exact in a double).

-- bits, hashes and state of a filter, or nil when the key holds none
local function bloom_header(key)
  local m, k, state = string.match(redis.call('GETRANGE', key, 0, 63), '^B|(%d+)|(%d+)|(%a)')
  if not m then return nil end
  return tonumber(m), tonumber(k), state
end

-- calls f(offset) for each bit of user in a filter of m bits and k hashes; stops when f returns false
local function bloom_bits(m, k, user, f)
  local h = redis.sha1hex(user)
  local h1 = tonumber(string.sub(h, 1, 8), 16)
  local h2 = tonumber(string.sub(h, 9, 16), 16)
  for i = 0, k - 1 do
    if f(512 + (h1 + i * h2) % m) == false then return end
  end
end

-- whether every bit of user is set
local function bloom_has(key, m, k, user)
  local all = true
  bloom_bits(m, k, user, function(bit)
    if redis.call('GETBIT', key, bit) == 0 then all = false return false end
  end)
  return all
end

