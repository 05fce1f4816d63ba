/**
 * The turn-queue and rate-limits contracts (test/contract/) on a 3-master Redis Cluster the file
 * starts itself: each session's queue keys share a slot; the wake-up stream and each limit key
 * are alone in their commands. Sessions of the contract cases land on different masters. Every
 * alert key shares the `{alerts}` slot, so each alert script runs on one master.
 */
import { NotQueuedError, RedisAlertQueue, RedisRateLimits } from '../../src/index.js';
import { alertQueueContract } from '../contract/alert-queue.contract.js';
import { rateLimitsContract } from '../contract/rate-limits.contract.js';
import { redisBot } from '../contract/turn-queue.bots.js';
import { turnQueueContract } from '../contract/turn-queue.contract.js';
import { useCluster } from './helpers.js';

const cluster = useCluster();
const prefix = (p: string) => `${p}${Math.random().toString(36).slice(2, 8)}`;

turnQueueContract('RedisTurnQueue + QueueWorker on Redis Cluster', {
  // Blocking reads wait longer than a command: the reader's command timeout is 5 s.
  make: (deps) => redisBot(deps, { connect: () => cluster.connect(), connectReader: () => cluster.connect(5000), prefix: prefix('cq') }),
  whileStopping: 'stores',
  afterStopped: NotQueuedError,
  queuedAtStop: 'kept',
  noOutlet: 'kept',
});

rateLimitsContract('RedisRateLimits on Redis Cluster', {
  make: async (config, n = 1) => {
    const p = prefix('crl');
    return Promise.all(Array.from({ length: n }, async () => new RedisRateLimits({ client: await cluster.connect(), prefix: p, config })));
  },
  shared: true,
});

alertQueueContract('RedisAlertQueue on Redis Cluster', async () => new RedisAlertQueue({ client: await cluster.connect(), prefix: prefix('caq') }));
