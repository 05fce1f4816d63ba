/**
 * Opens the one Redis connection an instance's backends share, from settings: connected and
 * answering (an unreachable Redis at start-up is an error, never a silent fallback), with
 * the at-rest cipher when a key is set.
 */
import type { Settings } from '../config/settings.js';
import { StoreUnavailableError } from '../session/store.js';
import { AesGcmCipher, parseKey, type TextCipher } from './cipher.js';
import { connectRedis, createRedisClient, describeRedis, type RedisClient } from './connection.js';

export interface OpenRedis {
  client: RedisClient;
  /** Undefined without HISTORY_ENCRYPTION_KEY (text is stored as it is). */
  cipher: TextCipher | undefined;
  /** Where it connected, without a password (the start-up banner). */
  description: string;
}

export function usesRedis(s: Settings): boolean {
  return Boolean(s.REDIS_URL || s.REDIS_CLUSTER_NODES || s.REDIS_SENTINELS);
}

export async function openRedis(s: Settings): Promise<OpenRedis> {
  const conn = { url: s.REDIS_URL, clusterNodes: s.REDIS_CLUSTER_NODES, sentinels: s.REDIS_SENTINELS, sentinelName: s.REDIS_SENTINEL_NAME, commandTimeoutMs: s.REDIS_COMMAND_TIMEOUT_MS };
  const description = describeRedis(conn);
  const client = createRedisClient(conn);
  let lastError: { code?: string; message?: string } | undefined;
  client.on('error', (err: { code?: string; message?: string }) => (lastError = err)); // reconnection is automatic; failures surface per command
  try {
    await connectRedis(client);
  } catch (err) {
    client.disconnect();
    const cause = lastError ?? (err as { code?: string; message?: string });
    const reason = (cause.code ?? cause.message ?? 'unknown error').replace(/\.+$/, '');
    throw new StoreUnavailableError(`Cannot reach ${description}: ${reason}. Check REDIS_URL / REDIS_CLUSTER_NODES / REDIS_SENTINELS, or unset them to keep sessions in memory.`, { cause: err });
  }
  const cipher = s.HISTORY_ENCRYPTION_KEY
    ? new AesGcmCipher(parseKey(s.HISTORY_ENCRYPTION_KEY, 'HISTORY_ENCRYPTION_KEY'), s.HISTORY_ENCRYPTION_KEY_PREVIOUS ? [parseKey(s.HISTORY_ENCRYPTION_KEY_PREVIOUS, 'HISTORY_ENCRYPTION_KEY_PREVIOUS')] : [])
    : undefined;
  return { client, cipher, description };
}
