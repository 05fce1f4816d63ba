/**
 * The check-in schedule's Lua scripts. Every check-in key shares the hash tag `{checkins}`
 * (one Cluster slot: a person has at most one schedule, and the work is one claim a day each),
 * so each step is one atomic script. The person's hash holds a fencing `token`, a fresh number
 * from one counter (never reused, even after a clear) at every claim and every `set`: a worker whose lease ran out (another took the check-in over, or the
 * person changed the time) can no longer settle, retry or record anything.
 */

/** KEYS: due zset, target hash, token counter. ARGV: member, target JSON, time, zone, next due ms. */
export const SET = `
redis.call('HDEL', KEYS[2], 'posted', 'tries')
redis.call('HSET', KEYS[2], 'target', ARGV[2], 'time', ARGV[3], 'zone', ARGV[4], 'occurrence', ARGV[5])
redis.call('HSET', KEYS[2], 'token', redis.call('INCR', KEYS[3]))
redis.call('ZADD', KEYS[1], ARGV[5], ARGV[1])
return 1
`;

/** KEYS: due zset, target hash. ARGV: member. */
export const CLEAR = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1
`;

/**
 * KEYS: due zset, target hash, token counter. ARGV: member, now ms, lease ms.
 * -> {token, target, time, zone, occurrence, tries, posted} or nil (not due, or taken meanwhile).
 */
export const CLAIM = `
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not s or tonumber(s) > tonumber(ARGV[2]) then return nil end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return nil
end
redis.call('ZADD', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[3]), ARGV[1])
local token = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[2], 'token', token)
local h = redis.call('HMGET', KEYS[2], 'target', 'time', 'zone', 'occurrence', 'tries', 'posted')
return {token, h[1], h[2], h[3], h[4], h[5] or '0', h[6] or ''}
`;

/** KEYS: due zset, target hash. ARGV: member, token, next due ms. -> 1, or 0 for a stale claim. */
export const SETTLE = `
if redis.call('HGET', KEYS[2], 'token') ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[2], 'occurrence', ARGV[3])
redis.call('HDEL', KEYS[2], 'tries', 'posted')
return 1
`;

/** KEYS: due zset, target hash. ARGV: member, token, due ms. -> 1, or 0 for a stale claim. */
export const RETRY = `
if redis.call('HGET', KEYS[2], 'token') ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('HINCRBY', KEYS[2], 'tries', 1)
return 1
`;

/** KEYS: target hash. ARGV: token, posted message JSON. -> 1, or 0 for a stale claim. */
export const RECORD = `
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'posted', ARGV[2])
return 1
`;
