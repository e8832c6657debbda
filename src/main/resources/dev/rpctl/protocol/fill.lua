-- Lease-guarded fill. KEYS[1] entry; ARGV[1] lease token, ARGV[2] value, ARGV[3] TTL in ms.
-- Writes only while the caller's own lease is still there: any write in between (a claim, the
-- binlog pipeline, a tombstone) or an eviction replaced it, and then the fill is dropped.
if redis.call('GET', KEYS[1]) == 'L|' .. ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
