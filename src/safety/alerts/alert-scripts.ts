/**
 * The alert queue's Lua scripts. Every alert key shares the hash tag `{alerts}` (one slot on a
 * Cluster; alerts are rare, so one slot is plenty), which lets each step be one atomic script.
 * Jobs are members `<send|ack>|<destination>|<episode>` of one sorted set scored by the time
 * they are due (reminders, `remind|<destination>|<episode>`, of a second one, so that what is
 * pending is what is still to be delivered, not a reminder due in ten minutes); a claim moves the score to the end of the lease, so a worker that dies holding
 * a job leaves it due again when the lease runs out.
 */

/**
 * KEYS: episode hash, due zset, recent zset, open-request key (or "" when not a request), user index set, reminders zset.
 * ARGV: ttl s, now ms, episode, requested "1"/"0", first reminder ms after now (0: none), field/value count, fields…, destinations…
 */
export const RAISE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 'duplicate' end
local ttl = tonumber(ARGV[1])
if ARGV[4] == '1' then
  if not redis.call('SET', KEYS[4], ARGV[3], 'NX', 'EX', 86400) then return 'open' end
end
local remind = tonumber(ARGV[5])
local n = tonumber(ARGV[6])
local i = 7
for _ = 1, n do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  i = i + 2
end
redis.call('EXPIRE', KEYS[1], ttl)
while i <= #ARGV do
  redis.call('ZADD', KEYS[2], ARGV[2], 'send|' .. ARGV[i] .. '|' .. ARGV[3])
  if remind > 0 then redis.call('ZADD', KEYS[6], tonumber(ARGV[2]) + remind, 'remind|' .. ARGV[i] .. '|' .. ARGV[3]) end
  i = i + 1
end
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -1001)
redis.call('SADD', KEYS[5], ARGV[3])
redis.call('EXPIRE', KEYS[5], ttl)
return 'queued'
`;

/** KEYS: due zset, tries hash, reminders zset. ARGV: now ms, lease ms, destinations…  Returns {member, tries} or nil. */
export const CLAIM = `
local allowed = {}
for i = 3, #ARGV do allowed[ARGV[i]] = true end
for _, key in ipairs({KEYS[1], KEYS[3]}) do
  local due = redis.call('ZRANGEBYSCORE', key, '-inf', ARGV[1], 'LIMIT', 0, 50)
  for _, m in ipairs(due) do
    local dest = string.match(m, '^[a-z]+|([a-z]+)|')
    if dest and allowed[dest] then
      redis.call('ZADD', key, tonumber(ARGV[1]) + tonumber(ARGV[2]), m)
      return {m, redis.call('HINCRBY', KEYS[2], m, 1)}
    end
  end
end
return nil
`;

/**
 * A job done. KEYS: due zset, tries hash, episode hash, reminders zset. ARGV: member, destination, sent ref ("" for none), link ("" for none), now ms,
 * reminded "1"/"0" (a reminder was posted), next reminder ms ("" for none).
 * A send that finishes after someone took the alert queues its edit at once; a reminder is
 * counted, and the next one queued only while nobody has taken the alert.
 */
export const DONE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
if string.sub(ARGV[1], 1, 7) == 'remind|' then
  if ARGV[6] == '1' then redis.call('HINCRBY', KEYS[3], 'reminded:' .. ARGV[2], 1) end
  if ARGV[7] ~= '' and redis.call('HEXISTS', KEYS[3], 'ackBy') == 0 then redis.call('ZADD', KEYS[4], ARGV[7], ARGV[1]) end
  return 1
end
if string.sub(ARGV[1], 1, 5) == 'send|' then
  redis.call('HSET', KEYS[3], 'sent:' .. ARGV[2], ARGV[3] ~= '' and ARGV[3] or 'posted')
  if ARGV[4] ~= '' then redis.call('HSET', KEYS[3], 'link', ARGV[4]) end
  if redis.call('HEXISTS', KEYS[3], 'ackBy') == 1 then
    redis.call('ZADD', KEYS[1], ARGV[5], 'ack|' .. ARGV[2] .. '|' .. string.sub(ARGV[1], string.len('send|' .. ARGV[2] .. '|') + 1))
  end
end
return 1
`;

/** A job given up. KEYS: due zset, tries hash, episode hash, reminders zset. ARGV: member, destination. */
export const FAIL = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('EXISTS', KEYS[3]) == 1 and string.sub(ARGV[1], 1, 5) == 'send|' then
  redis.call('HSET', KEYS[3], 'failed:' .. ARGV[2], '1')
end
return 1
`;

/**
 * The first to take the alert; its reminders are dropped. KEYS: episode hash, due zset, open-request key, reminders zset. ARGV: by, at (ISO), now ms, episode.
 * Returns {'acknowledged'} | {'taken', by, at} | {'unknown'}.
 */
export const ACK = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown'} end
if redis.call('HSETNX', KEYS[1], 'ackBy', ARGV[1]) == 0 then
  return {'taken', redis.call('HGET', KEYS[1], 'ackBy'), redis.call('HGET', KEYS[1], 'ackAt')}
end
redis.call('HSET', KEYS[1], 'ackAt', ARGV[2])
local fields = redis.call('HKEYS', KEYS[1])
for _, f in ipairs(fields) do
  local dest = string.match(f, '^sent:(.+)$')
  if dest then redis.call('ZADD', KEYS[2], ARGV[3], 'ack|' .. dest .. '|' .. ARGV[4]) end
end
for _, dest in ipairs({'slack', 'discord', 'webhook'}) do
  redis.call('ZREM', KEYS[4], 'remind|' .. dest .. '|' .. ARGV[4])
end
if redis.call('GET', KEYS[3]) == ARGV[4] then redis.call('DEL', KEYS[3]) end
return {'acknowledged'}
`;
