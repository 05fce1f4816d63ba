/**
 * The alert-queue contract: what every AlertQueue (memory, Redis) does. One alert per episode
 * however often it is raised, one job per destination, claims under a lease, the first
 * acknowledgement wins and queues the edits, one open `human` request per person.
 */
import { describe, expect, it } from 'vitest';
import type { AlertQueue, AlertTarget, SafetyAlert } from '../../src/index.js';
import { until } from '../wait.js';

export function alert(over: Partial<SafetyAlert> = {}): SafetyAlert {
  const episode = over.episode ?? `ep_${Math.random().toString(16).slice(2, 10).padEnd(8, '0')}${'0'.repeat(8)}`;
  return { episode, kind: 'crisis', platform: 'slack', tenant: 'acme', sessionId: 'slack:T1:D1', userId: 'U1', at: new Date().toISOString(), ...over };
}

export const BOTH: AlertTarget = { slackChannel: 'C0ALERTS', webhookUrl: 'http://127.0.0.1:1/hook', includeText: false, team: 'the care team' };

export function alertQueueContract(name: string, make: () => Promise<AlertQueue>): void {
  describe(`${name}: the AlertQueue contract`, () => {
    it('stores an episode once and queues one send job per destination', async () => {
      const q = await make();
      const a = alert();
      expect(await q.raise(a, BOTH)).toBe('queued');
      expect(await q.raise({ ...a, kind: 'self_harm' }, BOTH)).toBe('duplicate');
      expect(await q.pending()).toBe(2);
      expect((await q.get(a.episode))?.alert.kind).toBe('crisis');
    });

    it('claims each due job once while its lease runs, and again after it', async () => {
      const q = await make();
      const a = alert();
      await q.raise(a, { ...BOTH, webhookUrl: undefined });
      const now = Date.now() + 10;
      const first = await q.claim(['slack'], 1000, now);
      expect(first).toMatchObject({ episode: a.episode, job: { kind: 'send', destination: 'slack' }, tries: 1 });
      expect(await q.claim(['slack'], 1000, now + 500)).toBeNull();
      const again = await q.claim(['slack'], 1000, now + 1500);
      expect(again?.tries).toBe(2);
    });

    it('claims only the destinations asked for', async () => {
      const q = await make();
      await q.raise(alert(), BOTH);
      expect(await q.claim(['discord'], 1000, Date.now() + 10)).toBeNull();
      expect((await q.claim(['webhook'], 1000, Date.now() + 10))?.job.destination).toBe('webhook');
    });

    it('a done job is gone and its record says where the alert is; a retry is due when it says', async () => {
      const q = await make();
      const a = alert();
      await q.raise(a, BOTH);
      const s = (await q.claim(['slack'], 1000, Date.now() + 10))!;
      await q.done(s, { sent: { channel: 'C0ALERTS', id: '1.000001' }, link: 'https://x/p1' });
      const w = (await q.claim(['webhook'], 1000, Date.now() + 10))!;
      await q.retry(w, Date.now() + 60_000);
      expect(await q.claim(['slack', 'webhook'], 1000, Date.now() + 20)).toBeNull();
      expect((await q.claim(['webhook'], 1000, Date.now() + 61_000))?.tries).toBe(2);
      const r = (await q.get(a.episode))!;
      expect(r.sent.slack).toEqual({ channel: 'C0ALERTS', id: '1.000001' });
      expect(r.link).toBe('https://x/p1');
    });

    it('a failed job is recorded as failed and not claimed again', async () => {
      const q = await make();
      const a = alert();
      await q.raise(a, { ...BOTH, slackChannel: undefined });
      const w = (await q.claim(['webhook'], 1, Date.now() + 10))!;
      await q.fail(w);
      expect(await q.claim(['webhook'], 1, Date.now() + 100)).toBeNull();
      expect((await q.get(a.episode))!.failed).toEqual(['webhook']);
    });

    it('the first acknowledgement wins, queues an edit for each posted alert, and a second says who has it', async () => {
      const q = await make();
      const a = alert();
      await q.raise(a, BOTH);
      const s = (await q.claim(['slack'], 60_000, Date.now() + 10))!;
      await q.done(s, { sent: { channel: 'C0ALERTS', id: '1.1' } });
      const first = await q.acknowledge(a.episode, 'slack:U9');
      expect(first.outcome).toBe('acknowledged');
      const second = await q.acknowledge(a.episode, 'cli:sam');
      expect(second).toMatchObject({ outcome: 'taken', ack: { by: 'slack:U9' } });
      const edit = await q.claim(['slack'], 1000, Date.now() + 10);
      expect(edit?.job).toEqual({ kind: 'ack', destination: 'slack' });
      // The webhook alert, posted after it was taken, is followed by its acknowledgement at once.
      const w = (await q.claim(['webhook'], 60_000, Date.now() + 10))!;
      expect(w.job.kind).toBe('send');
      await q.done(w);
      expect((await q.claim(['webhook'], 1000, Date.now() + 10))?.job).toEqual({ kind: 'ack', destination: 'webhook' });
      expect(await q.acknowledge('ep_ffffffffffffffff', 'cli:sam')).toMatchObject({ outcome: 'unknown' });
    });

    it('queues a reminder per destination remindAfterMs after the alert, apart from what is pending; reminded, the next one is due when asked', async () => {
      const q = await make();
      const a = alert();
      const t0 = Date.now();
      await q.raise(a, { ...BOTH, remindAfterMs: 60_000 });
      expect(await q.pending()).toBe(2); // the two sends: a reminder due in a minute is not "still to deliver"
      await q.done((await q.claim(['slack'], 1000, t0 + 10))!, { sent: { channel: 'C0ALERTS', id: '1.1' } });
      await q.done((await q.claim(['webhook'], 1000, t0 + 10))!);
      expect(await q.pending()).toBe(0);
      expect(await q.claim(['slack', 'webhook'], 1000, t0 + 59_000)).toBeNull();
      const r1 = (await q.claim(['slack'], 1000, t0 + 60_500))!;
      expect(r1).toMatchObject({ episode: a.episode, job: { kind: 'remind', destination: 'slack' }, tries: 1 });
      await q.done(r1, { reminded: true, nextReminderAt: t0 + 120_500 });
      expect((await q.get(a.episode))!.reminded).toEqual({ slack: 1 });
      expect(await q.claim(['slack'], 1000, t0 + 120_000)).toBeNull();
      const r2 = (await q.claim(['slack'], 1000, t0 + 120_500))!;
      expect(r2.job.kind).toBe('remind');
      await q.done(r2, { reminded: true }); // the last: no next one
      expect(await q.claim(['slack'], 1000, t0 + 999_000)).toBeNull();
      expect((await q.get(a.episode))!.reminded).toEqual({ slack: 2 });
      // The webhook's reminder is its own.
      expect((await q.claim(['webhook'], 1000, t0 + 60_500))?.job).toEqual({ kind: 'remind', destination: 'webhook' });
    });

    it('taking the alert drops its reminders, also one a worker holds (its next is not queued)', async () => {
      const q = await make();
      const a = alert();
      const t0 = Date.now();
      await q.raise(a, { ...BOTH, remindAfterMs: 60_000 });
      await q.done((await q.claim(['slack'], 1000, t0 + 10))!, { sent: { channel: 'C0ALERTS', id: '1.1' } });
      await q.done((await q.claim(['webhook'], 1000, t0 + 10))!);
      const held = (await q.claim(['slack'], 1000, t0 + 60_500))!;
      expect(held.job.kind).toBe('remind');
      await q.acknowledge(a.episode, 'slack:U9', new Date(t0 + 61_000));
      await q.done(held, { reminded: true, nextReminderAt: t0 + 120_500 });
      const kinds: string[] = [];
      for (let c = await q.claim(['slack', 'webhook'], 1000, t0 + 999_000); c; c = await q.claim(['slack', 'webhook'], 1000, t0 + 999_000)) {
        kinds.push(`${c.job.kind}|${c.job.destination}`);
        await q.done(c);
      }
      expect(kinds.sort()).toEqual(['ack|slack', 'ack|webhook']);
    });

    it('jobs for a destination no worker serves never stand in the way of another destination\'s', async () => {
      const q = await make();
      const discordOnly: AlertTarget = { discordChannel: '300000000000000001', includeText: false, team: 'the care team', remindAfterMs: 1 };
      for (let i = 0; i < 60; i++) await q.raise(alert(), discordOnly);
      const a = alert();
      await q.raise(a, { slackChannel: 'C0ALERTS', includeText: false, team: 'the care team', remindAfterMs: 1 });
      const later = Date.now() + 60_000; // every send and every reminder due
      const first = (await q.claim(['slack'], 1000, later))!;
      expect(first).toMatchObject({ episode: a.episode, job: { kind: 'send', destination: 'slack' } });
      await q.done(first, { sent: { channel: 'C0ALERTS', id: '1.1' } });
      expect(await q.claim(['slack'], 1000, later)).toMatchObject({ episode: a.episode, job: { kind: 'remind', destination: 'slack' } });
    });

    it('a reminder where the alert failed for good sends the alert there again, with fresh tries', async () => {
      const q = await make();
      const a = alert();
      const t0 = Date.now();
      await q.raise(a, { slackChannel: 'C0ALERTS', includeText: false, team: 'the care team', remindAfterMs: 60_000 });
      const s1 = (await q.claim(['slack'], 1000, t0 + 10))!;
      await q.fail(s1);
      expect((await q.get(a.episode))!.failed).toEqual(['slack']);
      const r = (await q.claim(['slack'], 1000, t0 + 60_500))!;
      expect(r.job.kind).toBe('remind');
      await q.done(r, { reminded: true, resend: true, nextReminderAt: t0 + 120_500 });
      expect((await q.get(a.episode))!.failed).toEqual([]);
      expect(await q.pending()).toBe(1);
      const again = (await q.claim(['slack'], 1000, Date.now() + 10))!;
      expect(again).toMatchObject({ job: { kind: 'send', destination: 'slack' }, tries: 1 });
    });

    it('no reminders when remindAfterMs is 0 or absent', async () => {
      const q = await make();
      await q.raise(alert(), { ...BOTH, remindAfterMs: 0 });
      await q.raise(alert(), BOTH);
      const kinds: string[] = [];
      for (let c = await q.claim(['slack', 'webhook'], 1000, Date.now() + 10); c; c = await q.claim(['slack', 'webhook'], 1000, Date.now() + 10)) {
        kinds.push(c.job.kind);
        await q.done(c);
      }
      expect(kinds).toEqual(['send', 'send', 'send', 'send']);
      expect(await q.claim(['slack', 'webhook'], 1000, Date.now() + 86_400_000)).toBeNull();
    });

    it('one open `human` request per person until it is taken', async () => {
      const q = await make();
      const r1 = alert({ kind: 'requested', userId: 'U7' });
      expect(await q.raise(r1, BOTH)).toBe('queued');
      expect(await q.raise(alert({ kind: 'requested', userId: 'U7' }), BOTH)).toBe('open');
      expect(await q.raise(alert({ kind: 'requested', userId: 'U8' }), BOTH)).toBe('queued');
      // A crisis is never held back by an open request.
      expect(await q.raise(alert({ kind: 'crisis', userId: 'U7' }), BOTH)).toBe('queued');
      await q.acknowledge(r1.episode, 'slack:U9');
      expect(await q.raise(alert({ kind: 'requested', userId: 'U7' }), BOTH)).toBe('queued');
    });

    it('keeps an included text until the person erases their data; the alert stays', async () => {
      const q = await make();
      const a = alert({ userId: 'U5', text: 'the words' });
      await q.raise(a, { ...BOTH, includeText: true });
      expect((await q.get(a.episode))!.alert.text).toBe('the words');
      expect(await q.forgetText!('slack:U5')).toBe(1);
      const r = (await q.get(a.episode))!;
      expect(r.alert.text).toBeUndefined();
      expect(r.alert.kind).toBe('crisis');
    });

    it("gives a person's alerts, oldest first, and no one else's (their part of an export)", async () => {
      const q = await make();
      const user = `U${Math.random().toString(16).slice(2, 10)}`;
      const first = alert({ userId: user, at: '2026-01-02T10:00:00.000Z' });
      const second = alert({ userId: user, kind: 'requested', at: '2026-01-03T10:00:00.000Z' });
      await q.raise(second, BOTH);
      await q.raise(first, BOTH);
      await q.raise(alert({ userId: `${user}X` }), BOTH);
      await q.raise(alert({ userId: user, platform: 'discord' }), BOTH);
      await q.acknowledge(first.episode, 'slack:URESP');
      const mine = await q.ofUser(`slack:${user}`);
      expect(mine.map((r) => r.alert.episode)).toEqual([first.episode, second.episode]);
      expect(mine[0]).toMatchObject({ alert: { kind: 'crisis', sessionId: 'slack:T1:D1' }, ack: { by: 'slack:URESP' } });
      expect(await q.ofUser('slack:UNOBODY')).toEqual([]);
    });

    it('lists the newest first', async () => {
      const q = await make();
      const a = alert();
      const b = alert();
      await q.raise(a, BOTH);
      // Raised in a later millisecond: alerts of the same millisecond have no order between them.
      const raisedAt = Date.now();
      await until(() => Date.now() > raisedAt, { everyMs: 1, what: 'the clock to move on' });
      await q.raise(b, BOTH);
      expect((await q.recent(10)).map((r) => r.alert.episode).slice(0, 2)).toEqual([b.episode, a.episode]);
    });
  });
}
