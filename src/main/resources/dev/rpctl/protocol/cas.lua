-- Versioned compare-and-set of one or more keys (on a Redis Cluster, one key a call).
-- KEYS[i] entry; ARGV[3i-2] its new value, ARGV[3i-1] the value's rank, ARGV[3i] TTL in ms.
-- Rank is 2*version for a tombstone and 2*version+1 for a row or placeholder: a higher version
-- wins, and at one version a row beats the tombstone that announced it. A lease always loses,
-- which is what voids a reader's pending fill. Returns, per key, 1 written, 0 kept (not newer),
-- -1 the current value is undecodable and was left alone.
local function cas(key, value, rank, ttl)
  local cur = redis.call('GET', key)
  if cur then
    local kind = string.sub(cur, 1, 1)
    if kind ~= 'L' then
      if string.sub(cur, 2, 2) ~= '|' then return -1 end
      local stop = string.find(cur, '|', 3, true)
      local v = tonumber(string.sub(cur, 3, stop and (stop - 1) or -1))
      if v == nil then return -1 end
      local have
      if kind == 'T' then have = 2 * v
      elseif kind == 'R' or kind == 'P' then have = 2 * v + 1
      else return -1 end
      if have >= tonumber(rank) then return 0 end
    end
  end
  redis.call('SET', key, value, 'PX', ttl)
  return 1
end

local out = {}
for i = 1, #KEYS do
  local a = 3 * i
  out[i] = cas(KEYS[i], ARGV[a - 2], ARGV[a - 1], ARGV[a])
end
return out
