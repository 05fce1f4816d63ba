/**
 * The queue's Lua scripts. Each touches one session's keys only (one slot).
 * ENQUEUE and RELEASE both run on the session's slot, so "a message arrived"
 * and "the owner found the inbox empty and let go" cannot interleave: either
 * the owner sees the message, or the message's wake-up finds no owner.
 */

/**
 * KEYS: seen, seq, inbox, owner. ARGV: dedupe ttl s, payload, inbox ttl ms, token, owner ttl ms, batch size.
 * -> {0} when the message id was seen; {seq} queued; {seq, message...} queued and, since no
 * worker owned the inbox and a token was given, now owned by the caller (the receiving
 * instance answers at once, without waiting for a worker to read the wake-up).
 * Sequence numbers are microseconds of Redis's clock, kept strictly increasing per
 * session: they stay above any number a session has recorded even if the counter key
 * expires, so an answered-message check can never swallow a new message.
 */
export const ENQUEUE = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return {0} end
local t = redis.call('TIME')
local seq = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
if seq <= last then seq = last + 1 end
redis.call('SET', KEYS[2], string.format('%d', seq), 'PX', ARGV[3])
redis.call('RPUSH', KEYS[3], string.format('%d', seq) .. '|' .. ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
if ARGV[4] == '' or redis.call('EXISTS', KEYS[4]) == 1 then return {seq} end
redis.call('SET', KEYS[4], ARGV[4], 'PX', ARGV[5])
local out = redis.call('LRANGE', KEYS[3], 0, tonumber(ARGV[6]) - 1)
table.insert(out, 1, seq)
return out
`;

/**
 * KEYS: owner, inbox. ARGV: token, ttl ms, batch size.
 * -> {0} inbox empty, {1} another worker owns it, {2, message...} now ours, with the
 * first messages (saves the worker a round trip).
 */
export const CLAIM = `
if redis.call('LLEN', KEYS[2]) == 0 then return {0} end
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return {1} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local out = redis.call('LRANGE', KEYS[2], 0, tonumber(ARGV[3]) - 1)
table.insert(out, 1, 2)
return out
`;

/**
 * KEYS: owner, inbox, attempts, message. ARGV: token, answered up to seq, ttl ms, batch size.
 * Drops answered messages from the head (and their failed-try count and the turn's message
 * record: that turn is finished), then lets go when the inbox is empty.
 * -> {0} ownership was lost (expired), {1} released, {2, message...} more messages: still
 * ours, with the next ones.
 */
export const RELEASE = `
local upto = tonumber(ARGV[2])
while true do
  local head = redis.call('LINDEX', KEYS[2], 0)
  if not head then break end
  local s = tonumber(string.match(head, '^(%d+)|'))
  if s == nil or s > upto then break end
  redis.call('LPOP', KEYS[2])
end
if upto > 0 then redis.call('DEL', KEYS[3], KEYS[4]) end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end
if redis.call('LLEN', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[1])
  return {1}
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local out = redis.call('LRANGE', KEYS[2], 0, tonumber(ARGV[4]) - 1)
table.insert(out, 1, 2)
return out
`;

/** KEYS: owner. ARGV: token, ttl ms. Compare-and-extend. */
export const EXTEND = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/** KEYS: owner. ARGV: token. Compare-and-delete (hand the session back). */
export const LET_GO = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** KEYS: stream. ARGV: group, id. Acknowledge and delete a wake-up in one command (the stream stays short). */
export const ACK = `
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return redis.call('XDEL', KEYS[1], ARGV[2])
`;

/**
 * KEYS: seen. ARGV: dedupe ttl s.
 * Settles an enqueue whose reply never came (a timeout during a stall or a restart). Sent on
 * the same connection after the enqueue attempts, so it runs after every one of them that
 * will ever run: the seen key then says whether one stored the message ('1' -> {1}). If
 * none did, the key is set to 'void' (-> {0}): an attempt still on its way finds the id
 * taken and stores nothing, so "send it again" stays true. A later fence finds 'void' (-> {0}).
 */
export const FENCE = `
local v = redis.call('GET', KEYS[1])
if v == '1' then return 1 end
if not v then redis.call('SET', KEYS[1], 'void', 'EX', ARGV[1]) end
return 0
`;
