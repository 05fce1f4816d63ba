/**
 * The queue's Lua scripts. Each touches one session's keys only (one slot).
 * ENQUEUE and RELEASE both run on the session's slot, so "a message arrived"
 * and "the owner found the inbox empty and let go" cannot interleave: either
 * the owner sees the message, or the message's wake-up finds no owner.
 */

/**
 * KEYS: seen, seq, inbox, owner. ARGV: dedupe ttl s, payload, inbox ttl ms, token, owner ttl ms, batch size,
 * platform order ('' for none).
 * -> {0} when the message id was seen; {seq} queued; {seq, message...} queued and, since no
 * worker owned the inbox and a token was given, now owned by the caller (the receiving
 * instance answers at once, without waiting for a worker to read the wake-up).
 * Sequence numbers are microseconds of Redis's clock, kept strictly increasing per
 * session: they stay above any number a session has recorded even if the counter key
 * expires, so an answered-message check can never swallow a new message.
 * Entries are "<seq>|<payload>", or "<seq>:<order>|<payload>" with the platform's order (20
 * digits, compared as strings): such an entry goes after the last entry, from the tail, whose
 * order is not later (or that has none), so the inbox is in the person's order however the
 * messages reached Redis. The walk is bounded (ORDER_SCAN); past it the entry goes at the tail.
 */
/** How far from the inbox's tail an entry may be placed by its platform order. */
export const ORDER_SCAN = 200;

export const ENQUEUE = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return {0} end
local t = redis.call('TIME')
local seq = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
if seq <= last then seq = last + 1 end
redis.call('SET', KEYS[2], string.format('%d', seq), 'PX', ARGV[3])
local order = ARGV[7] or ''
local entry = string.format('%d', seq) .. (order ~= '' and (':' .. order) or '') .. '|' .. ARGV[2]
local placed = false
if order ~= '' then
  local n = redis.call('LLEN', KEYS[3])
  local i = 0
  while i < n and i < ${ORDER_SCAN} do
    local e = redis.call('LINDEX', KEYS[3], -1 - i)
    local o = string.match(e, '^%d+:(%d+)|')
    if o == nil or o <= order then
      if i > 0 then redis.call('LINSERT', KEYS[3], 'AFTER', e, entry) else redis.call('RPUSH', KEYS[3], entry) end
      placed = true
      break
    end
    i = i + 1
  end
  if not placed and i == n then
    redis.call('LPUSH', KEYS[3], entry)
    placed = true
  end
end
if not placed then redis.call('RPUSH', KEYS[3], entry) end
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
 * KEYS: owner, inbox, attempts, message. ARGV: token, the seqs dealt with (comma-separated), ttl ms, batch size.
 * Drops those messages wherever they are (a late message may have been placed before them
 * meanwhile), and with them the failed-try count and the turn's message record (that turn is
 * finished), then lets go when the inbox is empty.
 * -> {0} ownership was lost (expired), {1} released, {2, message...} more messages: still
 * ours, with the next ones.
 */
export const RELEASE = `
local done = {}
local any = false
for s in string.gmatch(ARGV[2], '%d+') do
  done[s] = true
  any = true
end
if any then
  -- What was dealt with is at the head, behind at most ORDER_SCAN late arrivals placed before it.
  for _, e in ipairs(redis.call('LRANGE', KEYS[2], 0, ${ORDER_SCAN} + tonumber(ARGV[4]))) do
    local s = string.match(e, '^(%d+)[:|]')
    if s and done[s] then redis.call('LREM', KEYS[2], 1, e) end
  end
  redis.call('DEL', KEYS[3], KEYS[4])
end
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
