/**
 * Check-ins through the composition root's pieces: createEngine on real Redis (the schedule is
 * wired only there), the real config, DM turns as the Slack listener hands them over. Setting
 * one puts the person in the schedule; `settings checkins off`, `stop` and `forget` take them
 * out. End to end: the check-in worker of adapters/checkins.ts with the real Slack outlet
 * (@slack/web-api) against the fake Slack posts the check-in in the DM once, at its time.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, loadSettings, silentLogger, type EngineSetup, type TurnInput } from '../../src/index.js';
import { startCheckinWorker } from '../../adapters/checkins.js';
import { localTime } from '../../src/checkins/next-occurrence.js';
import { createSlackOutlet } from '../../adapters/slack/slack-app.js';
import { FakeSlack } from '../fakes/slack.js';
import { REDIS_URL, cleanup, client, uniquePrefix } from '../redis/helpers.js';
import { until } from '../wait.js';
import { useStops } from '../stops.js';

const quiet = pino({ level: 'silent' });
let slack: FakeSlack;
let slackApi: string;
beforeAll(async () => {
  slack = new FakeSlack();
  slackApi = await slack.start();
});
afterAll(async () => slack.stop());

const defer = useStops();

async function setupOn(env: Record<string, string> = {}): Promise<{ setup: EngineSetup; prefix: string; dm: (text: string) => Promise<unknown>; zset: () => Promise<string[]> }> {
  const prefix = uniquePrefix();
  const setup = await createEngine(loadSettings({ REDIS_URL, REDIS_KEY_PREFIX: prefix, ...env }), silentLogger);
  const r = client();
  defer(() => cleanup(prefix), () => r.disconnect(), () => setup.close());
  let n = 0;
  const dm = (text: string) => {
    const input: TurnInput = { sessionId: 'slack:T1:DCHK1', userId: 'UCHK1', platform: 'slack', tenant: 'T1', text, direct: true, origin: { replyTo: { channel: 'DCHK1', isDm: true }, messageId: `m${++n}` } };
    return setup.engine.handleTurn(input);
  };
  return { setup, prefix, dm, zset: () => r.zrange(`${prefix}:checkins:{checkins}:due`, '0', '-1') };
}

describe('the schedule, set and removed by turns', () => {
  it('settings checkins 18:30 schedules the person (by their time zone); settings checkins off removes it', async () => {
    const { setup, dm, zset } = await setupOn();
    expect(setup.checkins).toBeDefined();
    await dm('settings timezone Europe/London');
    const set = (await dm('settings checkins 18:30')) as { reply: string };
    expect(set.reply).toContain('18:30');
    expect(await zset()).toEqual(['slack:UCHK1']);
    const due = (await setup.checkins!.dueAt('slack:UCHK1'))!;
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit' }).format(due)).toBe('18:30');
    expect(due).toBeGreaterThan(Date.now());
    await dm('settings checkins off');
    expect(await zset()).toEqual([]);
  });

  it('stop removes it', async () => {
    const { dm, zset } = await setupOn();
    await dm('settings timezone Europe/London');
    await dm('settings checkins 18:30');
    expect(await zset()).toEqual(['slack:UCHK1']);
    await dm('stop');
    expect(await zset()).toEqual([]);
  });

  it('forget (confirmed) removes it with everything else', async () => {
    const { dm, zset, prefix } = await setupOn();
    await dm('settings timezone Europe/London');
    await dm('settings checkins 18:30');
    expect(await zset()).toEqual(['slack:UCHK1']);
    await dm('forget');
    const done = (await dm('yes')) as { reply: string };
    expect(done.reply).toContain('erased');
    expect(await zset()).toEqual([]);
    const r = client();
    expect(await r.exists(`${prefix}:checkins:{checkins}:target:slack:UCHK1`)).toBe(0);
    r.disconnect();
  });
});

describe('end to end', () => {
  it('the check-in appears in the DM once, at its time, through the real Slack outlet', async () => {
    const { setup, dm } = await setupOn();
    await dm('settings timezone Europe/London');
    // Two hours from now in London: the person's last message is then over an hour before it.
    const at = localTime(Date.now() + 2 * 3_600_000, 'Europe/London');
    await dm(`settings checkins ${at}`);
    const due = (await setup.checkins!.dueAt('slack:UCHK1'))!;
    const clock = { now: Date.now() };
    const { outlet, stop } = createSlackOutlet({ botToken: 'xoxb-checkins', apiUrl: slackApi }, { engine: setup.engine, logger: silentLogger, marks: setup.marks });
    defer(stop);
    const inDm = () => [...slack.messages.values()].filter((m) => m.channel === 'DCHK1' && m.text === setup.config.responses.settings.checkin_message);
    const a = startCheckinWorker(setup, { slack: outlet }, quiet, { pollMs: 20, now: () => clock.now })!;
    const b = startCheckinWorker(setup, { slack: outlet }, quiet, { pollMs: 20, now: () => clock.now })!;
    defer(() => a.stop(), () => b.stop());
    const before = await setup.checkins!.dueAt('slack:UCHK1');
    expect(before).toBe(due); // not yet due: nothing claimed, nothing posted
    expect(inDm()).toEqual([]);
    clock.now = due; // the clock reaches the chosen time in London
    await until(() => inDm().length === 1, { what: 'the check-in in the DM' });
    await until(async () => (await setup.checkins!.dueAt('slack:UCHK1'))! > due + 23 * 3_600_000, { what: 'the next day scheduled' });
    await a.stop();
    await b.stop();
    expect(inDm()).toHaveLength(1);
    expect((await setup.store.history('slack:T1:DCHK1')).at(-1)).toMatchObject({ role: 'bot', action: 'checkin' });
  });
});
