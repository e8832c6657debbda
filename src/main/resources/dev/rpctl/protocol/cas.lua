-- Versioned compare-and-set of one or more keys (on a Redis Cluster, one key a call).
-- KEYS[i] entry; ARGV[2i-1] its new value, ARGV[2i] TTL in ms.
-- Order (Entry.rank in Java): a higher version wins, and at one version a row or placeholder beats
-- the tombstone that announced it. Versions are compared as digit strings (length, then the
-- digits), never as doubles, so versions up to 19 digits compare exactly. A lease always loses,
-- which is what voids a reader's pending fill. Returns, per key, 1 written, 0 kept (not newer),
-- -1 the current value is undecodable and was left alone, -2 the new value is not an entry.

-- kind letter, version digits and tie rank (0 tombstone, 1 row or placeholder) of a value; nil if not an entry
local function parse(s)
  if string.sub(s, 2, 2) ~= '|' then return nil end
  local kind = string.sub(s, 1, 1)
  local tie
  if kind == 'T' then tie = 0 elseif kind == 'R' or kind == 'P' then tie = 1 else return nil end
  local stop = string.find(s, '|', 3, true)
  local v = string.sub(s, 3, stop and (stop - 1) or -1)
  if v ~= '0' and not string.match(v, '^[1-9]%d*$') then return nil end
  if #v > 19 then return nil end
  return kind, v, tie
end

-- whether (version a, tie ta) ranks above (version b, tie tb)
local function above(a, ta, b, tb)
  if #a ~= #b then return #a > #b end
  if a ~= b then
    -- the first differing digit decides (bytes, not the server's collation)
    for i = 1, #a do
      local x, y = string.byte(a, i), string.byte(b, i)
      if x ~= y then return x > y end
    end
  end
  return ta > tb
end

local function cas(key, value, ttl)
  local _, nv, nt = parse(value)
  if not nv then return -2 end
  local cur = redis.call('GET', key)
  if cur and string.sub(cur, 1, 1) ~= 'L' then
    local _, cv, ct = parse(cur)
    if not cv then return -1 end
    if not above(nv, nt, cv, ct) then return 0 end
  end
  redis.call('SET', key, value, 'PX', ttl)
  return 1
end

local out = {}
for i = 1, #KEYS do
  out[i] = cas(KEYS[i], ARGV[2 * i - 1], ARGV[2 * i])
end
return out
