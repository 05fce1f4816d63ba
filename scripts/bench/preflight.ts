/**
 * Checks, before any measurement, that the Redis the chosen parts need answers. Without it
 * the bench ran the Redis-free parts first and then died in a stream of ioredis "Unhandled
 * error event" stack traces; now it stops at once with one line naming the server.
 */
import { Redis } from 'ioredis';
import { describeRedis } from '../../src/redis/connection.js';

/** The parts that measure against Redis (the rest run in memory). */
export const REDIS_PARTS = ['overrides', 'redis', 'queue'] as const;

/** Undefined when Redis at `url` answers PING within `timeoutMs`, else why not (one line, no password). */
export async function redisUnreachable(url: string, timeoutMs = 3000): Promise<string | undefined> {
  const where = describeRedis({ url, commandTimeoutMs: timeoutMs });
  let client: Redis;
  try {
    // No retries and no offline queue: one attempt, reported, rather than a reconnect loop.
    client = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  } catch (err) {
    return `${where} is not a usable address (${(err as Error).message})`;
  }
  let lastError: Error | undefined;
  client.on('error', (err: Error) => (lastError = err)); // reported below, never as "Unhandled error event"
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (err) {
    const e = (lastError ?? err) as Error & { code?: string };
    return `${where} unreachable (${e.code ?? e.message})`;
  } finally {
    client.disconnect();
  }
}
