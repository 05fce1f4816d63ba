/** How the Redis store's records read back: meta hashes and the history digest ERASE_SHARED checks. */
import { createHash } from 'node:crypto';
import type { SessionMeta } from '../store.js';

/** SHA-1 over `<byte length>:<entry>` of every entry, as ERASE_SHARED computes it. */
export function historyDigest(raw: readonly string[]): string {
  const h = createHash('sha1');
  for (const e of raw) h.update(`${Buffer.byteLength(e)}:${e}`);
  return h.digest('hex');
}

/** A flat HGETALL-style reply (field, value, …) as an object. */
export function pairsToObject(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) out[pairs[i]!] = pairs[i + 1]!;
  return out;
}

/** A stored meta hash as SessionMeta (snake_case fields; missing ones empty). */
export function toMeta(m: Record<string, string>): SessionMeta {
  return {
    platform: m.platform ?? '',
    userId: m.user ?? '',
    tenant: m.tenant || undefined,
    createdAt: m.created ?? '',
    lastActiveAt: m.last_active ?? '',
    turnCount: Number(m.turn_count ?? 0),
    schemaVersion: Number(m.schema_version ?? 0),
  };
}

