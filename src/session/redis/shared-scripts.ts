/**
 * Lua scripts for sessions several people take part in (see ../shared.ts). Like
 * scripts.ts, each touches the keys of one session only (one hash slot).
 */
import { COMMIT } from './scripts.js';

/**
 * COMMIT, and on success the committing person (meta `platform:user`) joins the
 * session's participant set, with the session's TTL: in the same script, so a stale
 * commit adds no one and an erased session gets no stray set.
 * KEYS: lock, state, history, meta, participants. ARGV: as COMMIT.
 */
export const COMMIT_WITH_PARTICIPANT = `
local function commit()
${COMMIT}
end
local result = commit()
if result ~= -1 then
  local who = redis.call('HMGET', KEYS[4], 'platform', 'user')
  redis.call('SADD', KEYS[5], who[1] .. ':' .. who[2])
  redis.call('EXPIRE', KEYS[5], tonumber(ARGV[5]))
end
return result
`;

/**
 * Removes one person from a shared session, after the caller read it and decided what
 * stays (the entries are encrypted, so the choice is made outside): replaces the
 * history with the kept entries, the participant set with the others, optionally the
 * meta user and the state, drops the LLM cache (its answers came from prompts holding
 * the person's words) and bumps the version. It only applies to the session as read:
 * when the version or the history (a SHA-1 over `<length>:<entry>` of every entry)
 * moved meanwhile, it changes nothing and returns 0, and the caller reads again.
 * Every rewritten key keeps the session's remaining TTL.
 * KEYS: lock, state, history, meta, participants, llm_cache.
 * ARGV: lock token to release ('' for none), expected version, history digest, new meta
 * user ('' to keep), new state ('' to keep), n others, others..., kept entries...
 * -> 1 applied, 0 moved.
 */
export const ERASE_SHARED = `
if tonumber(redis.call('HGET', KEYS[4], 'version') or '0') ~= tonumber(ARGV[2]) then return 0 end
local list = redis.call('LRANGE', KEYS[3], 0, -1)
local parts = {}
for i, e in ipairs(list) do parts[i] = #e .. ':' .. e end
if redis.sha1hex(table.concat(parts)) ~= ARGV[3] then return 0 end
local ttl = redis.call('PTTL', KEYS[4])
redis.call('DEL', KEYS[3], KEYS[5], KEYS[6])
local nothers = tonumber(ARGV[6])
for i = 7, 6 + nothers do redis.call('SADD', KEYS[5], ARGV[i]) end
for i = 7 + nothers, #ARGV do redis.call('RPUSH', KEYS[3], ARGV[i]) end
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[3], ttl)
  redis.call('PEXPIRE', KEYS[5], ttl)
end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[4], 'user', ARGV[4]) end
if ARGV[5] ~= '' then redis.call('SET', KEYS[2], ARGV[5], 'KEEPTTL') end
redis.call('HINCRBY', KEYS[4], 'version', 1)
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;
