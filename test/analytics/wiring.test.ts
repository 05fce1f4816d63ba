/** createEngine with Redis: turns and refused messages reach the analytics counts; close() writes the last of them. */
import { afterAll, expect, it } from 'vitest';
import { createEngine, loadSettings, silentLogger } from '../../src/index.js';
import { readCounts } from '../../src/analytics/reader.js';
import { cleanup, client, REDIS_URL, uniquePrefix } from '../redis/helpers.js';

const prefix = uniquePrefix();
afterAll(() => cleanup(prefix));

it('counts turns, sessions and rate-limited messages per tenant, written when the engine closes', async () => {
  const setup = await createEngine(loadSettings({ REDIS_URL, REDIS_KEY_PREFIX: prefix }), silentLogger);
  await setup.engine.handleTurn({ sessionId: 'slack:T0WIRE:D1', userId: 'UW1', platform: 'slack', tenant: 'T0WIRE', text: 'hello' });
  await setup.engine.handleTurn({ sessionId: 'slack:T0WIRE:D1', userId: 'UW1', platform: 'slack', tenant: 'T0WIRE', text: 'I want to feel calm' });
  const perUser = setup.config.rateLimits.per_user!.points;
  let refused = 0;
  for (let i = 0; i < perUser + 3; i++) {
    const d = await setup.limits.admit({ userKey: 'slack:UW2', sessionId: 'slack:T0WIRE:D2', tenant: 'T0WIRE' });
    if (!d.allowed) refused++;
  }
  expect(refused).toBe(3);
  await setup.close();
  const r = client();
  const [row] = await readCounts(r, prefix, { scope: { tenant: 'T0WIRE' }, from: new Date(Date.now() - 86_400_000), to: new Date(), granularity: 'day' });
  r.disconnect();
  expect(row!.counts).toMatchObject({ sessions: 1, turns: 2, rate_limited: 3, 'reached:1.1_goal': 1, 'reached:1.2_vision': 1 });
});
