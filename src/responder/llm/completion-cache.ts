/**
 * An optional cache of LLM answers, keyed by a hash of the whole request (model,
 * messages, format). Off by default: prompts hold health data. When on, entries
 * live in a hash under the session's own keys (`<p>:session:{<id>}:llm_cache`),
 * encrypted like history when a key is set, expire after LLM_CACHE_TTL_SECONDS,
 * and go with the session when the person erases their data. Its use: a turn
 * redone after a crash or an undelivered reply gets the same answer again
 * without paying for it twice.
 */
import { createHash } from 'node:crypto';
import type { TextCipher } from '../../redis/cipher.js';
import type { RedisClient } from '../../redis/connection.js';

/**
 * Where a session's cache entries and its lock live: the session store's key layout
 * (`KeyLayout` in session/redis/keys.ts) answers both, in the session's slot, so erasing the
 * session takes the cache with it. Named here so the cache does not import the store's code.
 */
export interface CacheKeys {
  llmCache(sessionId: string): string;
  lock(sessionId: string): string;
}

export interface CompletionCache {
  get(sessionId: string, requestHash: string): Promise<string | undefined>;
  set(sessionId: string, requestHash: string, content: string): Promise<void>;
}

export function requestHash(request: unknown): string {
  return createHash('sha256').update(JSON.stringify(request)).digest('hex');
}

/** KEYS: the cache hash, the session's lock (same slot). ARGV: field, value, TTL seconds. */
const SET_IF_LOCKED = `if redis.call('exists', KEYS[2]) == 0 then return 0 end
redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
redis.call('expire', KEYS[1], ARGV[3])
return 1`;

export class RedisCompletionCache implements CompletionCache {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: CacheKeys,
    private readonly cipher: TextCipher,
    private readonly ttlSeconds: number,
  ) {}

  async get(sessionId: string, hash: string): Promise<string | undefined> {
    const sealed = await this.client.hget(this.keys.llmCache(sessionId), hash);
    return sealed === null ? undefined : this.cipher.open(sealed);
  }

  /**
   * Written only while the turn still holds its session lock: an erasure deletes the lock with
   * the session, so an answer arriving after the person's data was erased is not stored.
   */
  async set(sessionId: string, hash: string, content: string): Promise<void> {
    await this.client.eval(SET_IF_LOCKED, 2, this.keys.llmCache(sessionId), this.keys.lock(sessionId), hash, this.cipher.seal(content), this.ttlSeconds);
  }
}
