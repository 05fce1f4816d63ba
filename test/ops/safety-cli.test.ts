/**
 * `npm run safety` as an operator runs it (the real CLI as a child process, against the real
 * Redis on a unique key prefix, alerts raised with the real RedisAlertQueue): `ack` takes an
 * alert once (a second taker is told who was first), the exit codes --help documents, and no
 * message text in anything it prints, even for a tenant that includes text in its alerts.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { AlertWorker, RedisAlertQueue, WebhookNotifier, type AlertTarget, type SafetyAlert } from '../../src/index.js';
import { WebhookReceiver } from '../fakes/webhook-receiver.js';
import { KeyLayout } from '../../src/session/redis/keys.js';
import { ROOT } from '../helpers.js';
import { REDIS_URL, cleanup, client, freePort, uniquePrefix } from '../redis/helpers.js';

const redis = client();
const prefixes: string[] = [];
afterEach(async () => {
  while (prefixes.length) await cleanup(prefixes.pop()!);
});
afterAll(() => redis.disconnect());

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function safety(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/safety.ts', ...args], { cwd: ROOT, env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const TEXT = 'words only the responders may read';
let n = 0;
const episode = () => `ep_${(0xabc0000000000000n + BigInt(++n)).toString(16)}`;

function alert(over: Partial<SafetyAlert> = {}): SafetyAlert {
  return { episode: episode(), kind: 'crisis', platform: 'slack', tenant: 'acme', sessionId: 'slack:T1:C1:U1', userId: 'U1', at: new Date().toISOString(), ...over };
}
const target: AlertTarget = { slackChannel: 'C0RESP', webhookUrl: 'https://hooks.example.com/secret-token', includeText: false, team: 'the care team' };

/** A fresh prefix with the env that points the CLI at it, and a queue on it. */
function setup(): { env: NodeJS.ProcessEnv; queue: RedisAlertQueue; prefix: string } {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  return { prefix, env: { ...process.env, REDIS_URL, REDIS_KEY_PREFIX: prefix }, queue: new RedisAlertQueue({ client: redis, prefix }) };
}

describe('npm run safety -- ack', () => {
  it('takes the alert as cli:<name> (recorded in the queue and the audit trail); a second taker exits 5 and is told who was first', async () => {
    const { env, queue, prefix } = setup();
    const a = alert();
    expect(await queue.raise(a, target)).toBe('queued');

    const first = await safety(['ack', a.episode, '--operator', 'dana'], env);
    expect(first, first.stderr).toMatchObject({ code: 0, stdout: `acknowledged ${a.episode} as cli:dana\n` });
    const record = await queue.get(a.episode);
    expect(record?.ack).toEqual({ by: 'cli:dana', at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    const audit = await redis.xrevrange(new KeyLayout(prefix).audit, '+', '-', 'COUNT', 5);
    expect(audit.map(([, fields]) => fields)).toContainEqual(expect.arrayContaining(['actor', 'cli:dana', 'action', 'safety_alert_acknowledged', 'target', a.episode]));

    const second = await safety(['ack', a.episode, '--operator', 'lee'], env);
    expect(second.code).toBe(5);
    expect(second.stderr).toContain(`already taken by cli:dana at ${record!.ack!.at}`);
    expect((await queue.get(a.episode))?.ack).toEqual(record!.ack);

    // The same operator again is not an error: it is theirs already.
    const again = await safety(['ack', a.episode, '--operator', 'dana'], env);
    expect(again).toMatchObject({ code: 0, stdout: expect.stringContaining('already taken by cli:dana') });
  });

  it('exits 3 for an episode that was never raised', async () => {
    const { env } = setup();
    const r = await safety(['ack', 'ep_00000000000000ff', '--operator', 'dana'], env);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('no such episode ep_00000000000000ff');
    expect((await safety(['show', 'ep_00000000000000ff'], env)).code).toBe(3);
  });

  it('exits 2 for a malformed episode id or a missing, blank or unsafe --operator, before touching Redis', async () => {
    // A port nothing listens on: a bad argument must be reported as one (2), not as Redis down (4).
    const env = { ...process.env, REDIS_URL: `redis://127.0.0.1:${await freePort()}` };
    const cases = [
      ['ack', 'ep_123', '--operator', 'dana'],
      ['ack', 'EP_0123456789ABCDEF', '--operator', 'dana'],
      ['ack', 'ep_0123456789abcdef'],
      ['ack', 'ep_0123456789abcdef', '--operator', '  '],
      ['ack', 'ep_0123456789abcdef', '--operator', '<!channel>'],
      ['show', 'nope'],
      ['list', '--count', '0'],
      ['frobnicate'],
    ];
    // Independent processes: run side by side (each is a tsx start-up).
    const runs = await Promise.all(cases.map((args) => safety(args, env)));
    runs.forEach((r, i) => expect(r.code, `${cases[i]!.join(' ')}: ${r.stderr}`).toBe(2));
  }, 60_000); // eight process start-ups on a loaded machine

  it('exits 4 when Redis cannot be reached', async () => {
    const env = { ...process.env, REDIS_URL: `redis://127.0.0.1:${await freePort()}`, REDIS_KEY_PREFIX: 'trttest-none' };
    const [r, list] = await Promise.all([safety(['ack', 'ep_0123456789abcdef', '--operator', 'dana'], env), safety(['list'], env)]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('Cannot reach');
    expect(list.code).toBe(4);
  });
});

describe('npm run safety -- test (a drill through the running workers)', () => {
  /** The env of a drill: only the destinations given, whatever the runner's environment says. */
  const drillEnv = (env: NodeJS.ProcessEnv, extra: Record<string, string>) => ({
    ...env,
    SAFETY_ALERT_SLACK_CHANNEL: '',
    SAFETY_ALERT_DISCORD_CHANNEL: '',
    SAFETY_ALERT_WEBHOOK_URL: '',
    SAFETY_ALERT_WEBHOOK_SECRET: 'drill-secret-0123456789',
    SAFETY_ALERT_REMIND_MINUTES: '1',
    ...extra,
  });

  it('with a worker running: the test alert reaches the webhook, signed, kind test, never reminded; audited; exit 0', async () => {
    const { env, queue, prefix } = setup();
    const rx = new WebhookReceiver({ secret: 'drill-secret-0123456789' });
    const url = await rx.start();
    const worker = new AlertWorker({ queue, notifiers: [new WebhookNotifier({ secret: 'drill-secret-0123456789' })], logger: pino({ level: 'silent' }), pollMs: 20 });
    worker.start();
    try {
      const r = await safety(['test', '--operator', 'dana', '--wait', '20'], drillEnv(env, { SAFETY_ALERT_WEBHOOK_URL: url }));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^test alert ep_[0-9a-f]{16} queued for webhook; waiting up to 20 s/);
      expect(r.stdout).toContain('  webhook: accepted\n');
      expect(r.stdout).toContain('delivered to webhook');
      expect(rx.requests).toHaveLength(1);
      expect(rx.requests[0]).toMatchObject({ verified: true, json: { event: 'safety_alert', kind: 'test', platform: 'test', person: 'cli:dana' } });
      const ep = String(rx.requests[0]!.json!.episode);
      expect(r.stdout).toContain(ep);
      // A drill is never chased with reminders, whatever SAFETY_ALERT_REMIND_MINUTES says.
      expect(await redis.zcard(`${prefix}:alerts:{alerts}:reminders:webhook`)).toBe(0);
      const [entry] = (await redis.xrevrange(`${prefix}:audit`, '+', '-', 'COUNT', 1)).map(([, f]) => Object.fromEntries(f.flatMap((v, i) => (i % 2 ? [] : [[v, f[i + 1]]]))));
      expect(entry).toMatchObject({ actor: 'cli:dana', action: 'safety_alert_test', target: ep, delivered: 'webhook', not_delivered: '' });
    } finally {
      await worker.stop();
      await rx.stop();
    }
  });

  it('with no worker to deliver it: says what to check and exits 6; nothing configured exits 7; an unknown tenant exits 2', async () => {
    const { env } = setup();
    const none = await safety(['test', '--operator', 'dana', '--wait', '1'], drillEnv(env, { SAFETY_ALERT_WEBHOOK_URL: 'http://127.0.0.1:9/hook' }));
    expect(none.code).toBe(6);
    expect(none.stdout).toContain('webhook: not delivered within 1 s (is a worker running');
    const off = await safety(['test', '--operator', 'dana'], drillEnv(env, {}));
    expect(off.code).toBe(7);
    expect(off.stderr).toContain('no safety alert destination is configured');
    const typo = await safety(['test', '--operator', 'dana', '--tenant', 'acmee'], drillEnv(env, { SAFETY_ALERT_WEBHOOK_URL: 'http://127.0.0.1:9/hook' }));
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('no tenant "acmee" with a safety_alert in tenants.json');
    expect((await safety(['test'], drillEnv(env, {}))).code).toBe(2); // --operator is required
  });
});

describe('npm run safety -- list and show', () => {
  it('print the alerts, newest first, without the message text even when the tenant includes it', async () => {
    const { env, queue } = setup();
    const older = alert({ at: '2025-01-02T03:04:05.000Z' });
    const withText = alert({ kind: 'requested', platform: 'discord', tenant: undefined, userId: '4242', sessionId: 'discord:G1:C1:4242', text: TEXT });
    await queue.raise(older, target);
    await queue.raise(withText, { ...target, includeText: true });
    expect((await queue.get(withText.episode))?.alert.text).toBe(TEXT); // stored: the responders' channel gets it
    expect((await safety(['ack', older.episode, '--operator', 'dana'], env)).code).toBe(0);

    const json = await safety(['list', '--json'], env);
    expect(json.code, json.stderr).toBe(0);
    expect(json.stdout).not.toContain(TEXT);
    const rows = json.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => r.episode)).toEqual([withText.episode, older.episode]);
    for (const r of rows) expect(r).not.toHaveProperty('text');
    expect(rows[0]).toEqual({ episode: withText.episode, kind: 'requested', platform: 'discord', tenant: null, at: withText.at, sent: [], failed: [], taken_by: null, taken_at: null });
    expect(rows[1]).toMatchObject({ episode: older.episode, tenant: 'acme', taken_by: 'cli:dana' });
    expect((await safety(['list', '--json', '--count', '1'], env)).stdout.trimEnd().split('\n')).toHaveLength(1);

    const table = await safety(['list'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).not.toContain(TEXT);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^episode +kind +platform +tenant +at \(UTC\) +sent +failed +taken by$/);
    expect(lines[1]).toMatch(new RegExp(`^${withText.episode} +requested +discord +- +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d +- +- +-$`));
    expect(lines[2]).toMatch(new RegExp(`^${older.episode} +crisis +slack +acme +2025-01-02 03:04:05 +- +- +cli:dana at `));

    const show = await safety(['show', withText.episode], env);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).not.toContain(TEXT);
    expect(show.stdout).not.toContain('secret-token'); // the webhook URL can carry a token
    expect(JSON.parse(show.stdout)).toMatchObject({
      episode: withText.episode,
      person: '4242',
      target: { include_text: true, webhook: true, slack_channel: 'C0RESP', remind_after_minutes: 0 },
      destinations: ['slack', 'webhook'],
      pending: ['slack', 'webhook'],
      reminded: {},
      taken_by: null,
    });
    expect(JSON.parse(show.stdout)).not.toHaveProperty('text');
  });

  it('--help documents the exit codes', async () => {
    const r = await safety(['--help'], { ...process.env, REDIS_URL: '' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Exit codes: 0 done, 2 bad arguments .*3 no such episode.*4 Redis unreachable, 5 already taken by someone else, 6 the test alert was not delivered .*7 no alert destination is configured/);
  });
});
