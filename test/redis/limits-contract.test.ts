/**
 * The rate-limits contract (test/contract/rate-limits.contract.ts) against the in-memory limits
 * and the Redis limits on the real Redis (127.0.0.1:6379, a unique prefix per set of instances,
 * cleaned up). The Cluster runs the same in test/redis/cluster-contract.test.ts.
 */
import type { Redis } from 'ioredis';
import { afterAll, afterEach } from 'vitest';
import { MemoryRateLimits, RedisRateLimits } from '../../src/index.js';
import { rateLimitsContract } from '../contract/rate-limits.contract.js';
import { cleanup, client, uniquePrefix } from './helpers.js';

rateLimitsContract('MemoryRateLimits', {
  make: async (config, n = 1) => Array.from({ length: n }, () => new MemoryRateLimits({ config })),
  shared: false,
});

const prefixes: string[] = [];
const clients: Redis[] = [];
afterEach(() => clients.splice(0).forEach((c) => c.disconnect()));
afterAll(async () => {
  await Promise.all(prefixes.map((p) => cleanup(p)));
});

rateLimitsContract('RedisRateLimits', {
  // `n` instances of the bot: a client each (connected: one not "ready" goes to the insurance limiter), one prefix.
  make: async (config, n = 1) => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    return Promise.all(
      Array.from({ length: n }, async () => {
        const c = client();
        clients.push(c);
        await c.ping();
        return new RedisRateLimits({ client: c, prefix, config });
      }),
    );
  },
  shared: true,
});
