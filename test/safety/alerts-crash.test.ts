/**
 * Safety alerts across crashes, with real processes (`node --import tsx adapters/main.ts`): an
 * instance killed (-9) after the crisis reply went out, while its alert was on the wire or not
 * yet through, leaves the alert in Redis for another instance to deliver, once. And the
 * terminal chat, whose alerts live in its memory, sends them before it exits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisAlertQueue } from '../../src/index.js';
import { FakeSlack, eventCallback, sendSigned } from '../fakes/slack.js';
import { WebhookReceiver } from '../fakes/webhook-receiver.js';
import { tcpGate, type TcpGate } from '../fakes/tcp-gate.js';
import { pipeTo, type Piped } from '../helpers.js';
import { BotProcess } from '../queue/bot-process.js';
import { REDIS_URL, cleanup, client, uniquePrefix } from '../redis/helpers.js';
import { pause, until } from '../wait.js';
import { useStops } from '../stops.js';

const SLACK_SECRET = 'alerts-crash-signing-secret';
const WEBHOOK_SECRET = 'whsec-crash-test-0123456789';
const CRISIS = 'I want to kill myself';
const TOLD = "I've let the support team know, so someone can reach out to you.";
const UNAVAILABLE = "I can't pass a message to a person from here";
/**
 * Once nothing is pending in the alert queue, how long no second delivery may come: several
 * leases (SAFETY_ALERT_LEASE_MS below), so a job still held by someone would come due within it.
 */
const QUIET_MS = 2_000;

let slack: FakeSlack;
let slackApi: string;
beforeAll(async () => {
  slack = new FakeSlack();
  slackApi = await slack.start();
});
afterAll(async () => slack.stop());

const defer = useStops();

async function receiver(statuses: Array<number | 'hang'> = []): Promise<{ rx: WebhookReceiver; url: string }> {
  const rx = new WebhookReceiver({ secret: WEBHOOK_SECRET, statuses });
  const url = await rx.start();
  defer(() => rx.stop());
  return { rx, url };
}

/** The alert queue the instances share, read from the test (pending jobs, the alerts raised). */
function alertQueue(prefix: string): RedisAlertQueue {
  const c = client();
  defer(() => cleanup(prefix));
  defer(() => void c.disconnect());
  return new RedisAlertQueue({ client: c, prefix });
}

async function instance(name: string, prefix: string, webhookUrl: string): Promise<BotProcess> {
  const bot = await BotProcess.start(name, {
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_SIGNING_SECRET: SLACK_SECRET,
    SLACK_API_URL: slackApi,
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    SAFETY_ALERT_WEBHOOK_URL: webhookUrl,
    SAFETY_ALERT_WEBHOOK_SECRET: WEBHOOK_SECRET,
    SAFETY_ALERT_LEASE_MS: '1500',
    // A killed instance's turn is taken over quickly too (it may not have been acknowledged).
    QUEUE_CLAIM_IDLE_MS: '1500',
    QUEUE_OWNER_TTL_MS: '500',
    SESSION_LOCK_TTL_MS: '1000',
  });
  defer(() => bot.kill9());
  return bot;
}

let seq = 0;
async function crisisDm(bot: BotProcess, channel: string, user: string): Promise<void> {
  const event = eventCallback({ type: 'message', channel, channel_type: 'im', user, text: CRISIS, ts: `1700002000.${String(++seq).padStart(6, '0')}` });
  expect((await sendSigned(bot.url, event, SLACK_SECRET)).status).toBe(200);
}

/** The crisis reply, posted or edited into the DM, with the line that says the team was told. */
function crisisReplied(channel: string): boolean {
  return slack.calls.some((c) => (c.method === 'chat.postMessage' || c.method === 'chat.update') && c.args.channel === channel && String(c.args.text).includes(TOLD));
}

/** A gate in front of the receiver that refuses every connection until the test lets them through. */
async function gate(target: string): Promise<TcpGate> {
  const g = await tcpGate(target, 'refuse');
  defer(() => g.close());
  return g;
}

/** After the takeover: nothing pending, then a quiet period in which no second delivery comes. */
async function settledAndQuiet(queue: RedisAlertQueue): Promise<void> {
  await until(async () => (await queue.pending()) === 0, { timeoutMs: 15_000, everyMs: 50, what: 'the alert queue to have no pending job' });
  await pause(QUIET_MS);
}

describe('safety alerts survive a crash of the instance', () => {
  it('kill -9 between the crisis reply and the alert being accepted: the next instance sends it, once', async () => {
    const prefix = uniquePrefix();
    const queue = alertQueue(prefix);
    const { rx, url } = await receiver(['hang']); // A's request is received but never answered
    const a = await instance('a', prefix, url);
    await crisisDm(a, 'D0CRASH1', 'U0CRASH1');
    await until(() => crisisReplied('D0CRASH1'), { timeoutMs: 15_000, what: () => `the crisis reply in the DM:\n${a.stderr.slice(-3000)}` });
    const [held] = await rx.waitFor(1, 15_000);
    expect(held!.status).toBe('hang');
    await a.kill9();

    const b = await instance('b', prefix, url);
    const accepted = await until(() => rx.requests.find((r) => r.status === 200), { timeoutMs: 20_000, what: () => `B to deliver the alert:\n${b.stderr.slice(-3000)}` });
    await settledAndQuiet(queue);

    const [raised] = await queue.recent(10);
    expect(await queue.recent(10)).toHaveLength(1); // a redone turn raises the same episode: no second alert
    expect(accepted.json).toMatchObject({ event: 'safety_alert', episode: raised!.alert.episode, kind: 'crisis', platform: 'slack', person: 'U0CRASH1' });
    expect(held!.json?.episode).toBe(raised!.alert.episode);
    expect(rx.requests.filter((r) => r.status === 200)).toHaveLength(1);
    expect(rx.requests.filter((r) => r.json?.episode === raised!.alert.episode && r.status === 200)).toHaveLength(1);
    expect(accepted.verified).toBe(true);
    expect(accepted.json).not.toHaveProperty('text');
    for (const r of rx.requests) expect(r.raw).not.toContain('kill myself');
    expect(b.stderr).toContain('safety alert sent');
    expect(a.stderr + b.stderr).not.toContain('kill myself'); // no message text in the logs either
  }, 60_000);

  it('kill -9 after the crisis reply while no alert request has got through: the next instance sends it, once', async () => {
    const prefix = uniquePrefix();
    const queue = alertQueue(prefix);
    const { rx, url } = await receiver();
    // The alert's URL (stored with it) is the gate's: while A runs, nothing gets through to the receiver.
    const g = await gate(url);
    const a = await instance('a', prefix, g.url);
    await crisisDm(a, 'D0CRASH2', 'U0CRASH2');
    // A has tried (and failed) at least once: the job is in Redis, due again after A's backoff.
    const tried = () => a.stderr.includes('safety alert delivery failed; retrying');
    await until(() => crisisReplied('D0CRASH2') && tried(), { timeoutMs: 15_000, what: () => `the crisis reply and A's first failed try (dropped ${g.dropped}):\n${a.stderr.slice(-3000)}` });
    await a.kill9();
    expect(g.dropped).toBeGreaterThanOrEqual(1);
    expect(rx.requests).toHaveLength(0);

    g.mode = 'forward';
    const b = await instance('b', prefix, g.url);
    const accepted = await until(() => rx.requests.find((r) => r.status === 200), { timeoutMs: 20_000, what: () => `B to deliver the alert:\n${b.stderr.slice(-3000)}` });
    await settledAndQuiet(queue);

    const all = await queue.recent(10);
    expect(all).toHaveLength(1);
    expect(rx.requests).toHaveLength(1);
    expect(accepted).toMatchObject({ verified: true, json: { event: 'safety_alert', episode: all[0]!.alert.episode, kind: 'crisis', person: 'U0CRASH2' } });
    expect(accepted.raw).not.toContain('kill myself');
    expect(all[0]).toMatchObject({ sent: { webhook: 'posted' }, failed: [] });
  }, 60_000);
});

/** The terminal chat, piped, without Redis and without any SAFETY_ALERT_* of the test runner's. */
function chat(input: string, env: Record<string, string> = {}): Promise<Piped> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SAFETY_ALERT_')));
  return pipeTo('node', ['--import', 'tsx', 'adapters/main.ts'], input, { ...base, REDIS_URL: '', SLACK_BOT_TOKEN: '', DISCORD_BOT_TOKEN: '', LOG_LEVEL: 'info', ...env });
}

describe('the terminal chat', () => {
  it('piped, with a webhook and no Redis: the alert is delivered before the process exits', async () => {
    const { rx, url } = await receiver();
    const { code, stdout, stderr } = await chat(`${CRISIS}\n`, { SAFETY_ALERT_WEBHOOK_URL: url, SAFETY_ALERT_WEBHOOK_SECRET: WEBHOOK_SECRET });
    expect(code, stderr).toBe(0);
    // Counted at exit: a request can only have come from the process while it ran.
    expect(rx.requests).toHaveLength(1);
    expect(rx.requests[0]).toMatchObject({ status: 200, verified: true, json: { event: 'safety_alert', kind: 'crisis', platform: 'console' } });
    expect(rx.requests[0]!.raw).not.toContain('kill myself');
    expect(stdout).toContain(TOLD);
    expect(stderr).toContain('safety alerts: default -> webhook');
    expect(stderr).not.toContain('safety alerts not delivered');
  }, 30_000);

  it('with no SAFETY_ALERT_* set: the banner says alerts are off, nobody is said to be told, and `human` is told no one can be reached', async () => {
    const { code, stdout, stderr } = await chat(`human\n`);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('safety alerts: off');
    expect(stdout).toContain(UNAVAILABLE);
    expect(stdout).not.toContain("I've asked");
    const crisis = await chat(`${CRISIS}\n`);
    expect(crisis.code).toBe(0);
    expect(crisis.stdout).toContain('are you safe right now?');
    expect(crisis.stdout).not.toContain("I've let");
  }, 30_000);
});
