/** createEngine with Redis: turns and refused messages reach the analytics counts; close() writes the last of them. */
import { afterAll, expect, it } from 'vitest';
import { createEngine, loadSettings, silentLogger } from '../../src/index.js';
import { readCounts } from '../../src/analytics/reader.js';
import { throughRunner } from '../queue/recording-outlet.js';
import { cleanup, client, REDIS_URL, uniquePrefix } from '../redis/helpers.js';

const prefix = uniquePrefix();
afterAll(() => cleanup(prefix));

it('counts turns, sessions and rate-limited messages per tenant, written when the engine closes', async () => {
  const setup = await createEngine(loadSettings({ REDIS_URL, REDIS_KEY_PREFIX: prefix }), silentLogger);
  await setup.engine.handleTurn({ sessionId: 'slack:T0WIRE:D1', userId: 'UW1', platform: 'slack', tenant: 'T0WIRE', text: 'hello' });
  await setup.engine.handleTurn({ sessionId: 'slack:T0WIRE:D1', userId: 'UW1', platform: 'slack', tenant: 'T0WIRE', text: 'I want to feel calm' });
  const perUser = setup.config.rateLimits.per_user!.points;
  // Three over the limit are dropped; "help" over the limit is still answered, so not counted.
  const outlet = await throughRunner(setup, 'UW2', 'T0WIRE', [...Array.from({ length: perUser + 3 }, (_, i) => `message ${i}`), 'help']);
  expect(outlet.replies.length).toBeGreaterThan(perUser);
  await setup.close();
  const r = client();
  const [row] = await readCounts(r, prefix, { scope: { tenant: 'T0WIRE' }, from: new Date(Date.now() - 86_400_000), to: new Date(), granularity: 'day' });
  r.disconnect();
  expect(row!.counts).toMatchObject({ sessions: 2, turns: 2 + perUser + 1, rate_limited: 3, 'reached:1.1_goal': 2 });
  expect(row!.counts['reached:1.2_vision']).toBeGreaterThanOrEqual(1);
});
