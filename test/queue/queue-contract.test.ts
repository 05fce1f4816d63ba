/**
 * The turn-queue contract (test/contract/turn-queue.contract.ts) against the in-memory queue
 * and the Redis queue with its worker on the real Redis (127.0.0.1:6379, a unique prefix per
 * test, cleaned up). The Cluster runs the same in test/redis/cluster-contract.test.ts.
 */
import { afterAll } from 'vitest';
import { NotQueuedError } from '../../src/index.js';
import { memoryBot, redisBot } from '../contract/turn-queue.bots.js';
import { turnQueueContract } from '../contract/turn-queue.contract.js';
import { cleanup, client, uniquePrefix } from '../redis/helpers.js';

turnQueueContract('MemoryTurnQueue', { make: memoryBot, whileStopping: 'refuses', afterStopped: NotQueuedError, queuedAtStop: 'dropped', noOutlet: 'dropped' });

const prefixes: string[] = [];
afterAll(async () => {
  await Promise.all(prefixes.map((p) => cleanup(p)));
});
const connected = async () => {
  const c = client();
  await c.ping();
  return c;
};

// Durable: stopping the worker does not stop the queue (a message is still stored, for the next
// instance). Once the connection is closed, a message that could not have been sent is reported
// as "outcome unknown" rather than "not queued" (see the report on issue 17).
turnQueueContract('RedisTurnQueue + QueueWorker', {
  make: (deps) => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    return redisBot(deps, { connect: connected, connectReader: connected, prefix });
  },
  whileStopping: 'stores',
  afterStopped: NotQueuedError,
  queuedAtStop: 'kept',
  noOutlet: 'kept',
});
