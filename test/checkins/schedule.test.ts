/** The check-in schedule, in memory and in real Redis (a unique prefix per test, cleaned up): set, clear, claims, leases, fencing. */
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryCheckinSchedule } from '../../src/checkins/memory-checkin-schedule.js';
import { RedisCheckinSchedule } from '../../src/checkins/redis-checkin-schedule.js';
import type { CheckinQueue, CheckinTarget } from '../../src/checkins/schedule.js';
import { cleanup, client, uniquePrefix } from '../redis/helpers.js';

/** The schedule's clock: Friday 10 January 2025, 12:00 UTC (12:00 in London). */
const NOW = Date.parse('2025-01-10T12:00:00Z');
const DUE = Date.parse('2025-01-10T18:30:00Z');
const DAY = 86_400_000;

function target(user = 'U1'): CheckinTarget {
  return { userKey: `slack:${user}`, platform: 'slack', userId: user, tenant: 'T1', sessionId: `slack:T1:D${user}`, replyTo: { channel: `D${user}`, isDm: true } };
}

const prefixes: string[] = [];
const clients: Array<ReturnType<typeof client>> = [];
afterAll(async () => {
  await Promise.all(prefixes.map((p) => cleanup(p)));
  for (const c of clients) c.disconnect();
});

const kinds: Array<[string, () => CheckinQueue]> = [
  ['memory', () => new MemoryCheckinSchedule(() => NOW)],
  [
    'redis',
    () => {
      const prefix = uniquePrefix();
      prefixes.push(prefix);
      const c = client();
      clients.push(c);
      return new RedisCheckinSchedule(c, prefix, () => NOW);
    },
  ],
];

describe.each(kinds)('%s check-in schedule', (_name, make) => {
  it('set schedules the next occurrence, a second set replaces it, clear removes it', async () => {
    const s = make();
    await s.set(target(), '18:30', 'Europe/London');
    expect(await s.dueAt('slack:U1')).toBe(DUE);
    await s.set(target(), '09:00', 'America/New_York');
    expect(await s.dueAt('slack:U1')).toBe(Date.parse('2025-01-10T14:00:00Z'));
    await s.clear('slack:U1');
    expect(await s.dueAt('slack:U1')).toBeUndefined();
    await s.clear('slack:U1'); // no error when there is none
  });

  it('a claim takes only what is due, on the platforms asked for, and holds it for the lease', async () => {
    const s = make();
    await s.set(target(), '18:30', 'Europe/London');
    expect(await s.claim(DUE - 1, 1000, ['slack'])).toBeNull();
    expect(await s.claim(DUE, 1000, ['discord'])).toBeNull();
    const c = await s.claim(DUE, 1000, ['slack']);
    expect(c).toMatchObject({ target: target(), time: '18:30', timeZone: 'Europe/London', occurrence: DUE, tries: 0 });
    expect(await s.claim(DUE + 999, 1000, ['slack'])).toBeNull(); // held
    expect(await s.dueAt('slack:U1')).toBe(DUE + 1000);
    expect(await s.settle(c!, DUE + DAY)).toBe(true);
    expect(await s.dueAt('slack:U1')).toBe(DUE + DAY);
    expect(await s.claim(DUE + 5000, 1000, ['slack'])).toBeNull();
  });

  it('after the lease another claim takes it over; the first holder can no longer settle, retry or record', async () => {
    const s = make();
    await s.set(target(), '18:30', 'Europe/London');
    const first = (await s.claim(DUE, 1000, ['slack']))!;
    await s.record(first, { id: '111.1', shows: 'placeholder' });
    const second = (await s.claim(DUE + 1000, 1000, ['slack']))!;
    expect(second.occurrence).toBe(DUE); // the same occurrence, whatever the lease did to its score
    expect(second.posted).toEqual({ id: '111.1', shows: 'placeholder' });
    expect(await s.settle(first, DUE + DAY)).toBe(false);
    expect(await s.retry(first, DUE + 5)).toBe(false);
    await s.record(first, { id: '222.2', shows: 'reply' });
    expect((await s.claim(DUE + 2000, 1000, ['slack']))!.posted).toEqual({ id: '111.1', shows: 'placeholder' });
  });

  it('retry makes it due again with one more try; settle forgets the tries and what was posted', async () => {
    const s = make();
    await s.set(target(), '18:30', 'Europe/London');
    const c = (await s.claim(DUE, 1000, ['slack']))!;
    await s.record(c, { id: '1.1', shows: 'reply' });
    expect(await s.retry(c, DUE + 30_000)).toBe(true);
    const again = (await s.claim(DUE + 30_000, 1000, ['slack']))!;
    expect(again.tries).toBe(1);
    await s.settle(again, DUE + DAY);
    const next = (await s.claim(DUE + DAY, 1000, ['slack']))!;
    expect(next).toMatchObject({ occurrence: DUE + DAY, tries: 0 });
    expect(next.posted).toBeUndefined();
  });

  it('a check-in cleared (or set anew) while held is not brought back by its holder', async () => {
    const s = make();
    await s.set(target(), '18:30', 'Europe/London');
    const c = (await s.claim(DUE, 1000, ['slack']))!;
    await s.clear('slack:U1');
    expect(await s.settle(c, DUE + DAY)).toBe(false);
    expect(await s.dueAt('slack:U1')).toBeUndefined();
    await s.set(target(), '18:30', 'Europe/London');
    const d = (await s.claim(DUE, 1000, ['slack']))!;
    await s.set(target(), '19:00', 'Europe/London');
    expect(await s.settle(d, DUE + DAY)).toBe(false);
    expect(await s.dueAt('slack:U1')).toBe(DUE + 30 * 60_000);
  });
});
