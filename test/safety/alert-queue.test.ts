/** The alert-queue contract against memory and real Redis (a unique prefix per test, cleaned up). */
import { afterAll } from 'vitest';
import { MemoryAlertQueue, RedisAlertQueue } from '../../src/index.js';
import { alertQueueContract } from '../contract/alert-queue.contract.js';
import { cleanup, client, uniquePrefix } from '../redis/helpers.js';

alertQueueContract('MemoryAlertQueue', async () => new MemoryAlertQueue());

const prefixes: string[] = [];
const clients: Array<ReturnType<typeof client>> = [];
afterAll(async () => {
  await Promise.all(prefixes.map((p) => cleanup(p)));
  for (const c of clients) c.disconnect();
});
alertQueueContract('RedisAlertQueue', async () => {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  const c = client();
  clients.push(c);
  return new RedisAlertQueue({ client: c, prefix });
});
