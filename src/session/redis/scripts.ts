/**
 * Lua scripts: each touches the keys of one session only (one hash slot), or
 * one person's prefs key (WRITE_PREFS), so they run unchanged on Redis Cluster.
 * A turn waits on two round trips: OPEN (lock + load) and COMMIT (write + unlock).
 */

/** KEYS: lock, state, meta. ARGV: token, lock ttl ms. -> {1, state or '', meta pairs} | {0} */
export const OPEN = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, redis.call('GET', KEYS[2]) or '', redis.call('HGETALL', KEYS[3])}
end
return {0}
`;

/**
 * KEYS: lock, state, history, meta.
 * ARGV: token, expected version, state, history max, ttl seconds, reset history (0/1), n meta pairs, meta pairs..., entries...
 * -> new version, or -1 when the version moved (stale). Releases the lock either way when it holds the token.
 */
export const COMMIT = `
local version = tonumber(redis.call('HGET', KEYS[4], 'version') or '0')
local owned = redis.call('GET', KEYS[1]) == ARGV[1]
if version ~= tonumber(ARGV[2]) then
  if owned then redis.call('DEL', KEYS[1]) end
  return -1
end
local ttl = tonumber(ARGV[5])
redis.call('SET', KEYS[2], ARGV[3], 'EX', ttl)
local npairs = tonumber(ARGV[7])
local fields = {}
for i = 8, 7 + npairs * 2 do fields[#fields + 1] = ARGV[i] end
fields[#fields + 1] = 'version'
fields[#fields + 1] = tostring(version + 1)
redis.call('HSET', KEYS[4], unpack(fields))
redis.call('EXPIRE', KEYS[4], ttl)
if ARGV[6] == '1' then redis.call('DEL', KEYS[3]) end
local first = 8 + npairs * 2
if #ARGV >= first then
  for i = first, #ARGV do redis.call('RPUSH', KEYS[3], ARGV[i]) end
  redis.call('LTRIM', KEYS[3], -tonumber(ARGV[4]), -1)
end
redis.call('EXPIRE', KEYS[3], ttl)
if owned then redis.call('DEL', KEYS[1]) end
return version + 1
`;

/** KEYS: lock. ARGV: token. Compare-and-delete. */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** KEYS: lock. ARGV: token, ttl ms. Compare-and-extend. */
export const EXTEND = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/** KEYS: meta, history. ARGV: entry, history max. Appends only to a session that still exists (never re-creates an erased one). */
export const ANNOTATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
return 1
`;

/**
 * KEYS: a person's prefs hash. ARGV: ttl seconds, n fields to set, field/value pairs..., fields to remove...
 * Replaces the known fields in one step (never half-written) and sets the retention; with nothing
 * to set the key is deleted. -> 1.
 */
export const WRITE_PREFS = `
local nset = tonumber(ARGV[2])
if nset == 0 then
  redis.call('DEL', KEYS[1])
  return 1
end
local fields = {}
for i = 3, 2 + nset * 2 do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
for i = 3 + nset * 2, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
`;
