// Lua scripts that keep one cache partition's keys consistent in Redis (one hash tag, so one Cluster slot).
// KEYS[1] = zset of entry ids scored by Redis' own clock (ms) when stored, KEYS[2] = hash id -> answer JSON,
// KEYS[3] = hash question-hash -> id, KEYS[4] = hash id -> {question, vector} JSON (what a node indexes).

/** Exact match: the entry stored for this question hash, or nil. ARGV: question hash. */
export const EXACT_SCRIPT = `
local id = redis.call('HGET', KEYS[3], ARGV[1])
if not id then return nil end
local entry = redis.call('HGET', KEYS[2], id)
if not entry then
  redis.call('HDEL', KEYS[3], ARGV[1])
  return nil
end
return {id, entry}
`;

/**
 * Stores an entry, replacing an earlier answer to the same question, then evicts by age (ttl) and by
 * count (max entries, oldest first), and renews the keys' expiry so an idle partition disappears.
 * Scores come from Redis' clock, not the nodes': every node catches up by score, so one clock orders all.
 * ARGV: id, question hash, answer JSON, vector JSON, ttl ms, max entries. An id is "<question hash>.<random>".
 */
export const INSERT_SCRIPT = `
local function drop(ids)
  for _, id in ipairs(ids) do
    redis.call('HDEL', KEYS[2], id)
    redis.call('HDEL', KEYS[4], id)
    redis.call('ZREM', KEYS[1], id)
    local question = string.match(id, '^([^.]+)')
    if redis.call('HGET', KEYS[3], question) == id then redis.call('HDEL', KEYS[3], question) end
  end
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl, max = tonumber(ARGV[5]), tonumber(ARGV[6])
drop(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - ttl))
local previous = redis.call('HGET', KEYS[3], ARGV[2])
if previous then drop({previous}) end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[1])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[4], ARGV[1], ARGV[4]) end
local over = redis.call('ZCARD', KEYS[1]) - max
if over > 0 then drop(redis.call('ZRANGE', KEYS[1], 0, over - 1)) end
for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ttl) end
return now
`;
