/**
 * The alert worker end to end in one process: a RedisAlertQueue on the real Redis (a unique
 * prefix per test, cleaned up), the real WebhookNotifier and a local receiver with scripted
 * answers. Retries until accepted, giving up (logged, counted, audited), two workers on one
 * queue, the acknowledged event, and a link resolver that fails.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { AlertWorker, RedisAlertQueue, WebhookNotifier, type AlertOutcome, type AlertTarget, type ConversationLink, type SafetyAlert } from '../../src/index.js';
import { WebhookReceiver } from '../fakes/webhook-receiver.js';
import { cleanup, client, uniquePrefix } from '../redis/helpers.js';
import { pause, until } from '../wait.js';
import { useStops } from '../stops.js';

const SECRET = 'whsec-worker-test-0123456789';
/**
 * After the queue has nothing pending, how long no further request may arrive: many polls of
 * every worker (pollMs below), so a job left behind or claimed twice would show within it.
 */
const QUIET_MS = 300;
const POLL_MS = 10;
/** Reminders of an untaken alert this far apart in these tests (minutes in production). */
const REMIND_MS = 250;

interface AuditEntry {
  actor: string;
  action: string;
  target: string;
  [field: string]: string;
}

/** A pino logger writing into an array of parsed lines (the worker's real log shape). */
function capturingLogger() {
  const lines: Array<{ level: number; msg: string; [k: string]: unknown }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l) as (typeof lines)[number]);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

const defer = useStops();

async function receiver(statuses: Array<number | 'hang'> = []): Promise<{ rx: WebhookReceiver; url: string }> {
  const rx = new WebhookReceiver({ secret: SECRET, statuses });
  const url = await rx.start();
  defer(() => rx.stop());
  return { rx, url };
}

/** A Redis client and an alert queue on a prefix of the test's own (its keys removed after). */
function queueOn(prefix: string): { queue: RedisAlertQueue; redis: Redis } {
  const redis = client();
  defer(() => void redis.disconnect());
  return { queue: new RedisAlertQueue({ client: redis, prefix }), redis };
}

function newPrefix(): string {
  const prefix = uniquePrefix();
  defer(() => cleanup(prefix));
  return prefix;
}

function worker(queue: RedisAlertQueue, over: { maxTries?: number; links?: Record<string, ConversationLink>; backoffMs?: (tries: number) => number } = {}) {
  const { logger, lines } = capturingLogger();
  const outcomes: AlertOutcome[] = [];
  const taken: number[] = [];
  const audits: AuditEntry[] = [];
  const w = new AlertWorker({
    queue,
    notifiers: [new WebhookNotifier({ secret: SECRET, timeoutMs: 2_000 })],
    logger,
    pollMs: POLL_MS,
    leaseMs: 5_000,
    backoffMs: () => 20,
    onOutcome: (o) => outcomes.push(o),
    onTaken: (s) => taken.push(s),
    audit: async (e) => void audits.push(e),
    ...over,
  });
  w.start();
  defer(() => w.stop());
  return { w, lines, outcomes, taken, audits };
}

function alert(over: Partial<SafetyAlert> = {}): SafetyAlert {
  return {
    episode: `ep_${randomBytes(8).toString('hex')}`,
    kind: 'crisis',
    platform: 'slack',
    tenant: 'T0TEAM',
    sessionId: 'slack:T0TEAM:D0WORK',
    userId: 'U0WORK',
    at: new Date().toISOString(),
    origin: { replyTo: { channel: 'D0WORK' }, messageId: 'D0WORK:1700000000.000001' },
    ...over,
  };
}

const target = (url: string): AlertTarget => ({ webhookUrl: url, includeText: false, team: 'the care team' });

/** Resolves once nothing is pending in the queue (every job done or given up). */
const settled = (queue: RedisAlertQueue, what: string) => until(async () => (await queue.pending()) === 0, { timeoutMs: 10_000, what });

describe('AlertWorker with Redis and a webhook', () => {
  it('a webhook that answers 500 three times, then 200: delivered once, signed', async () => {
    const { rx, url } = await receiver([500, 500, 500]);
    const { queue } = queueOn(newPrefix());
    const { outcomes, audits } = worker(queue);
    const a = alert();
    expect(await queue.raise(a, target(url))).toBe('queued');
    await until(() => rx.requests.some((r) => r.status === 200), { what: () => `a 200 (statuses so far: ${rx.requests.map((r) => r.status).join(',')})` });
    await settled(queue, 'the send job to be done');
    await pause(QUIET_MS);
    expect(rx.requests.map((r) => r.status)).toEqual([500, 500, 500, 200]);
    expect(rx.requests.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of rx.requests) expect(r.verified, 'every try signed with the secret').toBe(true);
    expect(rx.requests[3]!.json).toMatchObject({ event: 'safety_alert', episode: a.episode, kind: 'crisis', session: a.sessionId, person: a.userId });
    expect(outcomes).toEqual(['retried', 'retried', 'retried', 'sent']);
    expect(audits).toEqual([expect.objectContaining({ actor: 'bot', action: 'safety_alert_sent', target: a.episode, destination: 'webhook', tries: '4', includes_text: 'no' })]);
    const record = await queue.get(a.episode);
    expect(record).toMatchObject({ sent: { webhook: 'posted' }, failed: [] });
  });

  it('out of tries (3, every one a 500): recorded as failed, logged at error level, counted and audited', async () => {
    const { rx, url } = await receiver([500, 500, 500, 500, 500, 500]);
    const { queue } = queueOn(newPrefix());
    const { lines, outcomes, audits } = worker(queue, { maxTries: 3 });
    const a = alert();
    await queue.raise(a, target(url));
    await until(async () => (await queue.get(a.episode))?.failed.includes('webhook'), { what: 'the alert to be recorded as failed' });
    await settled(queue, 'the given-up job to leave the queue');
    await pause(QUIET_MS);
    expect(rx.requests.map((r) => r.status)).toEqual([500, 500, 500]);
    expect((await queue.get(a.episode))!.sent).toEqual({});
    const given = lines.filter((l) => l.msg === 'safety alert could not be delivered; given up');
    expect(given).toHaveLength(1);
    expect(given[0]).toMatchObject({ level: 50, episode: a.episode, destination: 'webhook', tries: 3 });
    expect(outcomes).toEqual(['retried', 'retried', 'failed']);
    expect(audits.map((e) => e.action)).toEqual(['safety_alert_failed']);
    expect(audits[0]).toMatchObject({ actor: 'bot', target: a.episode, destination: 'webhook', tries: '3' });
  });

  it('two workers on the same queue (each its own client): every alert delivered once', async () => {
    const { rx, url } = await receiver();
    const prefix = newPrefix();
    const producer = queueOn(prefix).queue;
    const one = worker(queueOn(prefix).queue);
    const two = worker(queueOn(prefix).queue);
    const alerts = Array.from({ length: 8 }, () => alert());
    for (const a of alerts) expect(await producer.raise(a, target(url))).toBe('queued');
    await until(() => rx.requests.length >= alerts.length, { what: () => `${alerts.length} deliveries (got ${rx.requests.length})` });
    await settled(producer, 'every send job to be done');
    await pause(QUIET_MS);
    const episodes = rx.requests.map((r) => r.json?.episode);
    expect([...episodes].sort()).toEqual(alerts.map((a) => a.episode).sort());
    expect(one.outcomes.length + two.outcomes.length).toBe(alerts.length);
    expect([...one.outcomes, ...two.outcomes].every((o) => o === 'sent')).toBe(true);
  });

  it('an acknowledgement after the send: one acknowledged event, onTaken told once; a second press changes nothing', async () => {
    const { rx, url } = await receiver();
    const { queue } = queueOn(newPrefix());
    const { taken, outcomes } = worker(queue);
    const a = alert();
    await queue.raise(a, target(url));
    await rx.waitFor(1);
    await settled(queue, 'the send job to be done');
    expect((await queue.acknowledge(a.episode, 'cli:dana')).outcome).toBe('acknowledged');
    await rx.waitFor(2);
    expect((await queue.acknowledge(a.episode, 'slack:U0LATE')).outcome).toBe('taken');
    await settled(queue, 'the ack job to be done');
    await pause(QUIET_MS);
    const acks = rx.requests.filter((r) => r.json?.event === 'safety_alert_acknowledged');
    expect(acks).toHaveLength(1);
    expect(acks[0]).toMatchObject({ verified: true, json: { episode: a.episode, by: 'cli:dana' } });
    expect(rx.requests).toHaveLength(2);
    expect(taken).toHaveLength(1);
    expect(taken[0]).toBeGreaterThanOrEqual(0);
    expect(outcomes).toEqual(['sent', 'edited']);
  });

  it('nobody takes it: reminded three times, REMIND ms apart, signed, counted, audited and logged without text; then no more', async () => {
    const { rx, url } = await receiver();
    const { queue } = queueOn(newPrefix());
    const { lines, outcomes, audits } = worker(queue);
    const a = alert({ text: 'the words' });
    const raisedAt = Date.now();
    await queue.raise(a, { ...target(url), includeText: true, remindAfterMs: REMIND_MS });
    const reminders = () => rx.requests.filter((r) => r.json?.event === 'safety_alert_reminder');
    await until(async () => (await queue.get(a.episode))?.reminded?.webhook === 3, { timeoutMs: 10_000, what: () => `three reminders (got ${reminders().length})` });
    await pause(3 * REMIND_MS); // a fourth would be due within this
    expect(reminders().map((r) => r.json)).toEqual([1, 2, 3].map((n) => ({ event: 'safety_alert_reminder', episode: a.episode, kind: 'crisis', reminder: n, of: 3, minutes: 1, link: null })));
    for (const r of reminders()) {
      expect(r.verified).toBe(true);
      expect(r.raw).not.toContain('the words');
    }
    // The alert came first; the first reminder REMIND ms after it was raised, each next one REMIND ms after the one before.
    expect(rx.requests[0]!.json?.event).toBe('safety_alert');
    const at = [raisedAt, ...reminders().map((r) => r.at)];
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(REMIND_MS - 5);
    expect(outcomes.filter((o) => o === 'reminded')).toHaveLength(3);
    expect(audits.filter((e) => e.action === 'safety_alert_reminded')).toHaveLength(3);
    const logged = lines.filter((l) => l.msg === 'safety alert not taken yet; reminded');
    expect(logged.map((l) => l.reminder)).toEqual([1, 2, 3]);
    expect(JSON.stringify(lines)).not.toContain('the words');
  });

  it('taken after the first reminder: no second one', async () => {
    const { rx, url } = await receiver();
    const { queue } = queueOn(newPrefix());
    worker(queue);
    const a = alert();
    // Long enough apart that the press below comes before a second reminder is due, however loaded the machine.
    const every = 4 * REMIND_MS;
    await queue.raise(a, { ...target(url), remindAfterMs: every });
    await until(() => rx.requests.some((r) => r.json?.event === 'safety_alert_reminder'), { what: 'the first reminder' });
    await queue.acknowledge(a.episode, 'cli:sam');
    await until(() => rx.requests.some((r) => r.json?.event === 'safety_alert_acknowledged'), { what: 'the acknowledged event' });
    await pause(2 * every);
    expect(rx.requests.map((r) => r.json?.event)).toEqual(['safety_alert', 'safety_alert_reminder', 'safety_alert_acknowledged']);
  });

  it('an alert given up at a destination is sent there again as the reminder, whole (a bare reminder would point at nothing)', async () => {
    const { rx, url } = await receiver([500, 500]);
    const { queue } = queueOn(newPrefix());
    const { outcomes } = worker(queue, { maxTries: 2 });
    const a = alert();
    await queue.raise(a, { ...target(url), remindAfterMs: REMIND_MS });
    await until(() => rx.requests.some((r) => r.status === 200), { timeoutMs: 10_000, what: 'the alert sent again' });
    expect(rx.requests.map((r) => `${r.status} ${String(r.json?.event)}`)).toEqual(['500 safety_alert', '500 safety_alert', '200 safety_alert']);
    expect(outcomes.slice(0, 4)).toEqual(['retried', 'failed', 'reminded', 'sent']);
    expect(await queue.get(a.episode)).toMatchObject({ sent: { webhook: 'posted' }, failed: [], reminded: { webhook: 1 } });
  });

  it('a reminder that cannot be posted after every try does not end the chain: the next one comes', async () => {
    // The alert, then three failed tries at the first reminder, then the second reminder.
    const { rx, url } = await receiver([200, 500, 500, 500]);
    const { queue } = queueOn(newPrefix());
    const { outcomes, lines } = worker(queue, { maxTries: 3 });
    const a = alert();
    await queue.raise(a, { ...target(url), remindAfterMs: REMIND_MS });
    await until(() => rx.requests.some((r) => r.status === 200 && r.json?.event === 'safety_alert_reminder'), { timeoutMs: 10_000, what: 'the second reminder' });
    const reminders = rx.requests.filter((r) => r.json?.event === 'safety_alert_reminder');
    expect(reminders.map((r) => `${r.status} ${String(r.json?.reminder)}`)).toEqual(['500 1', '500 1', '500 1', '200 2']);
    expect(outcomes).toContain('remind_failed');
    expect(outcomes).not.toContain('failed'); // the alert itself reached the webhook
    expect(lines.filter((l) => l.level === 50).map((l) => l.msg)).toEqual(['safety alert reminder could not be delivered; the next one is still due']);
  });

  it('an alert still retrying is not overtaken by its reminder: the reminder waits for it', async () => {
    const { rx, url } = await receiver([500, 500, 500]);
    const { queue } = queueOn(newPrefix());
    worker(queue, { backoffMs: () => REMIND_MS });
    const a = alert();
    await queue.raise(a, { ...target(url), remindAfterMs: REMIND_MS });
    await until(() => rx.requests.some((r) => r.json?.event === 'safety_alert_reminder'), { timeoutMs: 10_000, what: 'a reminder' });
    const events = rx.requests.filter((r) => r.status === 200).map((r) => r.json?.event);
    expect(events[0]).toBe('safety_alert');
    expect(rx.requests.findIndex((r) => r.json?.event === 'safety_alert_reminder')).toBeGreaterThan(rx.requests.findIndex((r) => r.status === 200));
  });

  it('a link resolver that rejects or throws: the alert still goes out, without a link; one that works puts its link in', async () => {
    const { rx, url } = await receiver();
    const { queue } = queueOn(newPrefix());
    const good = alert({ platform: 'discord' });
    const rejecting = alert({ platform: 'slack' });
    const throwing = alert({ platform: 'console' });
    const links: Record<string, ConversationLink> = {
      discord: async () => 'https://discord.com/channels/1/2/3',
      slack: async () => {
        throw new Error('permalink refused');
      },
      // Not async: it throws before returning a promise.
      console: () => {
        throw new Error('no link here');
      },
    };
    const { lines, outcomes } = worker(queue, { links });
    for (const a of [good, rejecting, throwing]) await queue.raise(a, target(url));
    await until(() => rx.requests.length >= 3, { what: () => `3 deliveries (got ${rx.requests.length}; outcomes ${outcomes.join(',')})` });
    await settled(queue, 'every send job to be done');
    const body = (ep: string) => rx.requests.find((r) => r.json?.episode === ep)?.json;
    expect(body(good.episode)).toMatchObject({ link: 'https://discord.com/channels/1/2/3' });
    expect(body(rejecting.episode)).toMatchObject({ link: null });
    expect(body(throwing.episode)).toMatchObject({ link: null });
    expect(outcomes).toEqual(['sent', 'sent', 'sent']);
    const noLink = lines.filter((l) => l.msg === 'safety alert: no link to the conversation');
    expect(noLink.map((l) => l.episode).sort()).toEqual([rejecting.episode, throwing.episode].sort());
    expect(noLink.every((l) => l.level === 40)).toBe(true);
  });
});
