-- Versioned compare-and-set. KEYS[1] entry; ARGV[1] new value, ARGV[2] its rank, ARGV[3] TTL in ms.
-- Rank is 2*version for a tombstone and 2*version+1 for a row or placeholder: a higher version
-- wins, and at one version a row beats the tombstone that announced it. A lease always loses,
-- which is what voids a reader's pending fill. Returns 1 written, 0 kept (not newer), -1 the
-- current value is undecodable and was left alone.
local cur = redis.call('GET', KEYS[1])
if cur then
  local kind = string.sub(cur, 1, 1)
  if kind ~= 'L' then
    if string.sub(cur, 2, 2) ~= '|' then return -1 end
    local stop = string.find(cur, '|', 3, true)
    local v = tonumber(string.sub(cur, 3, stop and (stop - 1) or -1))
    if v == nil then return -1 end
    local rank
    if kind == 'T' then rank = 2 * v
    elseif kind == 'R' or kind == 'P' then rank = 2 * v + 1
    else return -1 end
    if rank >= tonumber(ARGV[2]) then return 0 end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1
