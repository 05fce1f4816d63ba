/**
 * The check-in worker against real Redis, the real Engine and the real config: delivered once
 * with two workers; taken over once after a holder's lease ran out; skipped (and due the next
 * day, not queued up) in the safety state, within an hour of the person writing, in quiet
 * hours; a failed post retried, then given up within the hour.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RecordingOutlet } from '../queue/recording-outlet.js';
import type { Outlet } from '../../src/index.js';
import { DAY, DUE, checkinWorld } from './world.js';

let world: Awaited<ReturnType<typeof checkinWorld>>;
afterEach(async () => world?.close());

describe('check-in delivery', () => {
  it('is delivered once while two workers poll, noted in the DM history, and due again the next day', async () => {
    world = await checkinWorld();
    await world.ask();
    expect(await world.schedule.dueAt('slack:U1')).toBe(DUE);
    world.clock.now = DUE;
    const outlet = new RecordingOutlet();
    const a = world.worker({ outlets: { slack: outlet } });
    const b = world.worker({ outlets: { slack: outlet } });
    const handled = await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
    expect(handled.reduce((x, y) => x + y, 0)).toBe(1);
    expect(outlet.for('slack:T1:DU1')).toEqual([world.message]);
    expect(world.outcomes).toEqual(['sent']);
    expect(await world.schedule.dueAt('slack:U1')).toBe(DUE + DAY);
    const last = (await world.store.history('slack:T1:DU1')).at(-1);
    expect(last).toMatchObject({ role: 'bot', text: world.message, action: 'checkin', to: 'slack:U1' });
  });

  it('is delivered once by another worker after the one holding it died (its lease ran out)', async () => {
    world = await checkinWorld();
    await world.ask();
    world.clock.now = DUE;
    const dead = await world.schedule.claim(DUE, 5000, ['slack']); // claimed, never settled
    expect(dead).not.toBeNull();
    const outlet = new RecordingOutlet();
    const other = world.worker({ outlets: { slack: outlet }, leaseMs: 5000 });
    world.clock.now = DUE + 4999;
    expect(await other.tick()).toBe(0);
    world.clock.now = DUE + 5000;
    expect(await other.tick()).toBe(1);
    expect(await other.tick()).toBe(0);
    expect(outlet.for('slack:T1:DU1')).toEqual([world.message]);
    expect(await world.schedule.settle(dead!, DUE + 2 * DAY)).toBe(false);
  });

  it('is not posted again when the dead holder had posted it already (recorded by the outlet)', async () => {
    world = await checkinWorld();
    await world.ask();
    const dead = (await world.schedule.claim(DUE, 5000, ['slack']))!;
    await world.schedule.record(dead, { id: '1736533800.000100', shows: 'reply' });
    const outlet = new RecordingOutlet();
    world.clock.now = DUE + 5000;
    expect(await world.worker({ outlets: { slack: outlet }, leaseMs: 5000 }).tick()).toBe(1);
    expect(outlet.replies).toEqual([]);
    expect(await world.schedule.dueAt('slack:U1')).toBe(DUE + DAY);
  });

  it('runs on its own poll once started, and stops', async () => {
    world = await checkinWorld();
    await world.ask();
    world.clock.now = DUE;
    const outlet = new RecordingOutlet();
    const w = world.worker({ outlets: { slack: outlet } });
    w.start();
    await outlet.waitForCount(1);
    await w.stop();
    expect(outlet.for('slack:T1:DU1')).toEqual([world.message]);
  });
});

describe('check-ins skipped (not posted, not queued up: due the next day)', () => {
  it('while the person is in the safety state', async () => {
    world = await checkinWorld();
    await world.ask();
    await world.dm('I want to kill myself'); // the crisis response; the person-level safety mark is set
    expect(await world.marks.exists('safety:slack:U1')).toBe(true);
    world.clock.now = DUE;
    const outlet = new RecordingOutlet();
    expect(await world.worker({ outlets: { slack: outlet } }).tick()).toBe(1);
    expect(outlet.replies).toEqual([]);
    expect(world.outcomes).toEqual(['skipped_safety']);
    expect(await world.schedule.dueAt('slack:U1')).toBe(DUE + DAY);
  });

  it('when the person wrote within the last hour, and sent when they did not', async () => {
    world = await checkinWorld();
    await world.ask();
    world.clock.now = DUE - 30 * 60_000;
    await world.dm('hello');
    world.clock.now = DUE;
    const outlet = new RecordingOutlet();
    const w = world.worker({ outlets: { slack: outlet } });
    expect(await w.tick()).toBe(1);
    expect(outlet.replies).toEqual([]);
    expect(world.outcomes).toEqual(['skipped_recent']);
    world.clock.now = DUE + DAY;
    expect(await w.tick()).toBe(1);
    expect(outlet.for('slack:T1:DU1')).toEqual([world.message]);
  });

  it('in quiet hours (22:00-08:00 local) when the chosen time is outside them; a time chosen inside them is kept', async () => {
    world = await checkinWorld();
    await world.dm('settings timezone Europe/London');
    await world.dm('settings checkins 21:45');
    const outlet = new RecordingOutlet();
    const w = world.worker({ outlets: { slack: outlet } });
    // Found at 22:15 local (an outage): not at night.
    world.clock.now = Date.parse('2025-01-10T22:15:00Z');
    expect(await w.tick()).toBe(1);
    expect(world.outcomes).toEqual(['skipped_quiet']);
    expect(outlet.replies).toEqual([]);
    // Chosen at 23:00, it goes at 23:00.
    world.clock.now = Date.parse('2025-01-11T12:00:00Z');
    await world.dm('settings checkins 23:00');
    world.clock.now = Date.parse('2025-01-11T23:00:00Z');
    expect(await w.tick()).toBe(1);
    expect(world.outcomes).toEqual(['skipped_quiet', 'sent']);
    expect(outlet.for('slack:T1:DU1')).toEqual([world.message]);
  });
});

describe('a post that fails', () => {
  it('is tried again after a backoff, then given up for the day once an hour has passed', async () => {
    world = await checkinWorld();
    await world.ask();
    let tries = 0;
    const failing: Outlet = { begin: () => ({ deliver: async () => (tries++, false), close: async () => undefined }) };
    const w = world.worker({ outlets: { slack: failing }, backoffMs: () => 20 * 60_000 });
    world.clock.now = DUE;
    await w.tick();
    expect(await world.schedule.dueAt('slack:U1')).toBe(DUE + 20 * 60_000);
    world.clock.now = DUE + 20 * 60_000;
    await w.tick();
    world.clock.now = DUE + 40 * 60_000;
    await w.tick(); // its next try would be past the hour: given up
    expect(tries).toBe(3);
    expect(world.outcomes).toEqual(['failed']);
    expect(await world.schedule.dueAt('slack:U1')).toBe(DUE + DAY);
  });
});
