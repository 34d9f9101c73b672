// The Lua scripts of the Redis policy: each runs atomically on the node that owns its keys' hash slot.

/*
 * A counter is one hash per (key, limit, window): `c` committed usage, `r` the sum of live
 * reservations, and one field `x:<reservation id>` = "<amount>:<expires at ms>" per reservation.
 * Expired reservations are purged only when a counter would refuse, so the common path touches
 * O(counters) fields, not O(reservations). The key expires one second after its window ends.
 */

const PURGE = `
local function purge(key, now)
  local fields = redis.call('HGETALL', key)
  local live, expired = 0, {}
  for j = 1, #fields, 2 do
    local field = fields[j]
    if string.sub(field, 1, 2) == 'x:' then
      local value = fields[j + 1]
      local sep = string.find(value, ':', 1, true)
      if tonumber(string.sub(value, sep + 1)) <= now then
        expired[#expired + 1] = field
      else
        live = live + tonumber(string.sub(value, 1, sep - 1))
      end
    end
  end
  if #expired > 0 then redis.call('HDEL', key, unpack(expired)) end
  redis.call('HSET', key, 'r', live)
  return live
end
`;

/**
 * KEYS: the counters. ARGV: reservation id, now ms, ttl ms, then per counter: limit, amount, window end ms.
 * Returns {admitted (1/0), refused index (1-based, 0 when admitted), used per counter...}.
 */
export const RESERVE_SCRIPT = `${PURGE}
local id, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local used, refused = {}, 0
for i = 1, #KEYS do
  local limit, amount = tonumber(ARGV[1 + 3 * i]), tonumber(ARGV[2 + 3 * i])
  local state = redis.call('HMGET', KEYS[i], 'c', 'r')
  local committed, reserved = tonumber(state[1] or '0'), tonumber(state[2] or '0')
  local function fits()
    if amount == 0 then return committed + reserved < limit end
    return committed + reserved + amount <= limit
  end
  if refused == 0 and not fits() then
    reserved = purge(KEYS[i], now)
    if not fits() then refused = i end
  end
  used[i] = committed + reserved
end
if refused > 0 then
  local reply = {0, refused}
  for i = 1, #KEYS do reply[#reply + 1] = used[i] end
  return reply
end
local reply = {1, 0}
for i = 1, #KEYS do
  local amount, window_end = tonumber(ARGV[2 + 3 * i]), tonumber(ARGV[3 + 3 * i])
  redis.call('HINCRBY', KEYS[i], 'r', amount)
  redis.call('HSET', KEYS[i], 'x:' .. id, amount .. ':' .. (now + ttl))
  redis.call('PEXPIREAT', KEYS[i], window_end + 1000)
  reply[#reply + 1] = used[i] + amount
end
return reply
`;

/** KEYS: the counters. ARGV: reservation id, then per counter: actual usage, window end ms. */
export const SETTLE_SCRIPT = `
local field = 'x:' .. ARGV[1]
for i = 1, #KEYS do
  local actual, window_end = tonumber(ARGV[2 * i]), tonumber(ARGV[1 + 2 * i])
  local value = redis.call('HGET', KEYS[i], field)
  if value then
    local sep = string.find(value, ':', 1, true)
    local reserved = tonumber(string.sub(value, 1, sep - 1))
    -- Lua's -0 reaches Redis as "-0", which HINCRBY refuses: a 0 reservation (a cache hit) would never settle.
    if reserved ~= 0 then redis.call('HINCRBY', KEYS[i], 'r', -reserved) end
    redis.call('HDEL', KEYS[i], field)
  end
  if actual ~= 0 then redis.call('HINCRBY', KEYS[i], 'c', actual) end
  if redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIREAT', KEYS[i], window_end + 1000) end
end
return 1
`;
