/**
 * The alert queue's Lua scripts. Every alert key shares the hash tag `{alerts}` (one slot on a
 * Cluster; alerts are rare, so one slot is plenty), which lets each step be one atomic script.
 *
 * Jobs are members `<send|ack|remind>|<destination>|<episode>` of sorted sets scored by the time
 * they are due, one set per destination (`due:<dest>`), so jobs for a destination no worker
 * serves (a tenant's Discord channel and no Discord token anywhere) never stand in the way of
 * another's; reminders have their own sets (`reminders:<dest>`), so what is pending is what is
 * still to be delivered, not a reminder due in ten minutes. A claim moves the score to the end
 * of the lease, so a worker that dies holding a job leaves it due again when the lease runs out.
 *
 * Every script gets the same first seven keys (JOB_KEYS below): the three due sets, the three
 * reminder sets, the tries hash; then its own.
 */

/** The destinations, in the order of their keys (alert.ts ALERT_DESTINATIONS). */
export const JOB_DESTINATIONS = ['slack', 'discord', 'webhook'] as const;

/** Shared by every script: which key holds a destination's jobs, and a member's. */
const PRELUDE = `
local DEST = {slack = 1, discord = 2, webhook = 3}
local TRIES = KEYS[7]
local function due(d) return KEYS[DEST[d]] end
local function reminders(d) return KEYS[DEST[d] + 3] end
local function jobKey(m)
  local kind, d = string.match(m, '^([a-z]+)|([a-z]+)|')
  if not d or not DEST[d] then return nil end
  if kind == 'remind' then return reminders(d) end
  return due(d)
end
`;

/**
 * KEYS: the job keys, then episode hash, recent zset, open-request key (the episode hash again when not a request), user index set.
 * ARGV: ttl s, now ms, episode, requested "1"/"0", first reminder ms after now (0: none), field/value count, fields…, destinations…
 */
export const RAISE = `${PRELUDE}
local EP, RECENT, OPEN, USER = KEYS[8], KEYS[9], KEYS[10], KEYS[11]
if redis.call('EXISTS', EP) == 1 then return 'duplicate' end
local ttl = tonumber(ARGV[1])
if ARGV[4] == '1' then
  if not redis.call('SET', OPEN, ARGV[3], 'NX', 'EX', 86400) then return 'open' end
end
local remind = tonumber(ARGV[5])
local n = tonumber(ARGV[6])
local i = 7
for _ = 1, n do
  redis.call('HSET', EP, ARGV[i], ARGV[i + 1])
  i = i + 2
end
redis.call('EXPIRE', EP, ttl)
while i <= #ARGV do
  local d = ARGV[i]
  redis.call('ZADD', due(d), ARGV[2], 'send|' .. d .. '|' .. ARGV[3])
  if remind > 0 then redis.call('ZADD', reminders(d), tonumber(ARGV[2]) + remind, 'remind|' .. d .. '|' .. ARGV[3]) end
  i = i + 1
end
redis.call('ZADD', RECENT, ARGV[2], ARGV[3])
redis.call('ZREMRANGEBYRANK', RECENT, 0, -1001)
redis.call('SADD', USER, ARGV[3])
redis.call('EXPIRE', USER, ttl)
return 'queued'
`;

/**
 * KEYS: the job keys. ARGV: now ms, lease ms, destinations… (the worker's).
 * The earliest due job of the first destination that has one (sends and edits before reminders). Returns {member, tries} or nil.
 */
export const CLAIM = `${PRELUDE}
for i = 3, #ARGV do
  local d = ARGV[i]
  if DEST[d] then
    for _, key in ipairs({due(d), reminders(d)}) do
      local m = redis.call('ZRANGEBYSCORE', key, '-inf', ARGV[1], 'LIMIT', 0, 1)[1]
      if m then
        redis.call('ZADD', key, tonumber(ARGV[1]) + tonumber(ARGV[2]), m)
        return {m, redis.call('HINCRBY', TRIES, m, 1)}
      end
    end
  end
end
return nil
`;

/**
 * A job done. KEYS: the job keys, then the episode hash.
 * ARGV: member, destination, sent ref ("" for none), link ("" for none), now ms, reminded "1"/"0" (a reminder was
 * posted), next reminder ms ("" for none), resend "1"/"0" (a reminder in the form of the alert sent again, where it had failed).
 * A send that finishes after someone took the alert queues its edit at once; a reminder is
 * counted, and the next one queued only while nobody has taken the alert.
 */
export const DONE = `${PRELUDE}
local EP = KEYS[8]
local key = jobKey(ARGV[1])
if key then redis.call('ZREM', key, ARGV[1]) end
redis.call('HDEL', TRIES, ARGV[1])
if redis.call('EXISTS', EP) == 0 then return 0 end
local d = ARGV[2]
local ep = string.sub(ARGV[1], string.len(string.match(ARGV[1], '^[a-z]+|[a-z]+|')) + 1)
if string.sub(ARGV[1], 1, 7) == 'remind|' then
  if ARGV[6] == '1' then redis.call('HINCRBY', EP, 'reminded:' .. d, 1) end
  local open = redis.call('HEXISTS', EP, 'ackBy') == 0
  if ARGV[8] == '1' and open then
    redis.call('HDEL', EP, 'failed:' .. d)
    redis.call('HDEL', TRIES, 'send|' .. d .. '|' .. ep)
    redis.call('ZADD', due(d), ARGV[5], 'send|' .. d .. '|' .. ep)
  end
  if ARGV[7] ~= '' and open then redis.call('ZADD', reminders(d), ARGV[7], ARGV[1]) end
  return 1
end
if string.sub(ARGV[1], 1, 5) == 'send|' then
  redis.call('HSET', EP, 'sent:' .. d, ARGV[3] ~= '' and ARGV[3] or 'posted')
  if ARGV[4] ~= '' then redis.call('HSET', EP, 'link', ARGV[4]) end
  if redis.call('HEXISTS', EP, 'ackBy') == 1 then redis.call('ZADD', due(d), ARGV[5], 'ack|' .. d .. '|' .. ep) end
end
return 1
`;

/** A job given up. KEYS: the job keys, then the episode hash. ARGV: member, destination. */
export const FAIL = `${PRELUDE}
local key = jobKey(ARGV[1])
if key then redis.call('ZREM', key, ARGV[1]) end
redis.call('HDEL', TRIES, ARGV[1])
if redis.call('EXISTS', KEYS[8]) == 1 and string.sub(ARGV[1], 1, 5) == 'send|' then
  redis.call('HSET', KEYS[8], 'failed:' .. ARGV[2], '1')
end
return 1
`;

/**
 * The first to take the alert; its reminders are dropped. KEYS: the job keys, then episode hash, open-request key.
 * ARGV: by, at (ISO), now ms, episode. Returns {'acknowledged'} | {'taken', by, at} | {'unknown'}.
 */
export const ACK = `${PRELUDE}
local EP, OPEN = KEYS[8], KEYS[9]
if redis.call('EXISTS', EP) == 0 then return {'unknown'} end
if redis.call('HSETNX', EP, 'ackBy', ARGV[1]) == 0 then
  return {'taken', redis.call('HGET', EP, 'ackBy'), redis.call('HGET', EP, 'ackAt')}
end
redis.call('HSET', EP, 'ackAt', ARGV[2])
for _, f in ipairs(redis.call('HKEYS', EP)) do
  local d = string.match(f, '^sent:(.+)$')
  if d and DEST[d] then redis.call('ZADD', due(d), ARGV[3], 'ack|' .. d .. '|' .. ARGV[4]) end
end
for d in pairs(DEST) do
  local m = 'remind|' .. d .. '|' .. ARGV[4]
  redis.call('ZREM', reminders(d), m)
  redis.call('HDEL', TRIES, m)
end
if redis.call('GET', OPEN) == ARGV[4] then redis.call('DEL', OPEN) end
return {'acknowledged'}
`;

/** KEYS: the job keys. Jobs still to be delivered (sends and edits; not reminders). */
export const PENDING = `
return redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2]) + redis.call('ZCARD', KEYS[3])
`;
