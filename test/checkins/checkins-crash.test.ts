/**
 * A check-in across a crash, with real processes (`node --import tsx adapters/main.ts`, Slack
 * over HTTP against the fake, the machine's Redis under a unique prefix): instance A claims a
 * due check-in and is killed (-9) while its post is on the wire and has not reached Slack;
 * instance B posts it once its lease (CHECKIN_LEASE_MS) has run out, exactly once, and moves it
 * to the next day. And a check-in due while two instances run is posted by one of them, once.
 */
import { expect, it } from 'vitest';
import { RedisSessionStore } from '../../src/index.js';
import { RedisCheckinSchedule } from '../../src/checkins/redis-checkin-schedule.js';
import { tcpGate } from '../fakes/tcp-gate.js';
import { repoConfig } from '../helpers.js';
import { BotProcess } from '../queue/bot-process.js';
import { botEnv, dmSender, useWorlds } from '../slack/alert-process.js';
import { pause, until } from '../wait.js';

const MESSAGE = repoConfig().responses.settings.checkin_message;
const HOUR = 3_600_000;
/** Once B has settled the check-in, how long no second post may come: several polls and leases below. */
const QUIET_MS = 3_000;
/** The dead instance's lease in the crash test: over by the time the next instance has started. */
const CRASH_LEASE_MS = 4_000;

const worlds = useWorlds();
const defer = worlds.defer;

/**
 * `leaseMs`: the crash test wants the dead instance's lease over soon after B starts (B's own
 * start takes longer); the two-instance test wants none to run out while the holder posts, however
 * loaded the machine (a takeover there would be a second post).
 */
async function instance(name: string, api: string, prefix: string, leaseMs: number): Promise<BotProcess> {
  const env = botEnv(api, prefix, { SAFETY_ALERT_SLACK_CHANNEL: '', SAFETY_ALERT_TEAM_NAME: '', CHECKIN_POLL_MS: '100', CHECKIN_LEASE_MS: String(leaseMs) });
  const b = await BotProcess.start(name, env, [], (stderr) => stderr.includes('check-in worker started') && /"port":\d+/.test(stderr));
  defer(() => b.kill9());
  return b;
}

/**
 * A time inside the quiet hours (so being there now never skips it) at least two hours away in
 * UTC, so the next day's occurrence B schedules cannot come due while the test watches.
 */
function chosenTime(now: number): string {
  const h = new Date(now).getUTCHours() + new Date(now).getUTCMinutes() / 60;
  const until23 = (23 - h + 24) % 24;
  return until23 > 2 && until23 < 22 ? '23:00' : '03:00';
}

/** A fake Slack and a Redis prefix (removed after the test), with the check-in schedule and the store on it. */
async function world() {
  const { slack, api, prefix, redis } = await worlds.world();
  const schedule = new RedisCheckinSchedule(redis, prefix);
  const store = new RedisSessionStore({ client: redis, prefix });
  return { slack, api, prefix, redis, schedule, store };
}

type World = Awaited<ReturnType<typeof world>>;

/** The person asks `bot` for a daily check-in in their DM; resolves once both settings turns are committed. */
async function askForCheckin(w: World, bot: BotProcess, user: string): Promise<{ sessionId: string }> {
  const dm = dmSender(w.slack, bot.url, `D${user}`, user);
  await dm.say('settings timezone UTC');
  await dm.say(`settings checkins ${chosenTime(Date.now())}`);
  expect(dm.replies().at(-1)).toMatch(/^Done\./);
  const target = JSON.parse((await until(() => w.redis.hget(w.schedule.targetKey(`slack:${user}`), 'target'), { what: 'the check-in target' }))!) as { sessionId: string };
  // Last activity is written when a turn commits, after its reply: wait for it before rewriting it.
  await until(async () => (await w.redis.hget(w.store.keys.meta(target.sessionId), 'turn_count')) === '2', { what: 'both settings turns committed' });
  return target;
}

/** The time comes: the person last wrote two hours ago and their check-in is due now (returned). */
async function comeDue(w: World, user: string, sessionId: string): Promise<number> {
  await w.redis.hset(w.store.keys.meta(sessionId), 'last_active', new Date(Date.now() - 2 * HOUR).toISOString());
  const due = Date.now();
  await w.redis.multi().hset(w.schedule.targetKey(`slack:${user}`), 'occurrence', String(due)).zadd(w.schedule.dueKey, due, `slack:${user}`).exec();
  return due;
}

/** Settled: due the next day at the chosen time, and no second post comes while several polls and leases pass. */
async function settledAndQuiet(w: World, user: string, due: number): Promise<void> {
  await until(async () => Number(await w.redis.zscore(w.schedule.dueKey, `slack:${user}`)) > due + HOUR, { what: 'the check-in to be due the next day' });
  await pause(QUIET_MS);
}

it('kill -9 of the instance holding a due check-in, its post not yet at Slack: the other instance posts it once', async () => {
  const w = await world();
  const { slack, api, prefix, redis, schedule, store } = w;
  const gate = await tcpGate(api);
  defer(() => gate.close());
  const who = 'slack:U0CHKCRASH';

  // A reaches Slack through the gate; from when the check-in is due, A's Slack calls stall there.
  const a = await instance('a', gate.url, prefix, CRASH_LEASE_MS);
  const target = await askForCheckin(w, a, 'U0CHKCRASH');
  gate.mode = 'hold';
  const due = await comeDue(w, 'U0CHKCRASH', target.sessionId);

  // A claimed it (the score moved to the end of its lease) and its post is held on the wire.
  await until(() => gate.held.includes('chat.postMessage'), { timeoutMs: 10_000, what: () => `A to post the check-in:\n${a.stderr.slice(-2000)}` });
  expect(Number(await redis.zscore(schedule.dueKey, who))).toBeGreaterThan(due);
  await a.kill9();
  expect(slack.visible('DU0CHKCRASH').map((m) => m.text)).not.toContain(MESSAGE);

  const b = await instance('b', api, prefix, CRASH_LEASE_MS);
  await until(() => slack.visible('DU0CHKCRASH').some((m) => m.text === MESSAGE), { timeoutMs: 15_000, what: () => `B to post the check-in:\n${b.stderr.slice(-2000)}` });
  await settledAndQuiet(w, 'U0CHKCRASH', due);

  expect(slack.visible('DU0CHKCRASH').filter((m) => m.text === MESSAGE)).toHaveLength(1);
  expect(b.stderr).toContain('"outcome":"sent"');
  const noted = (await store.history(target.sessionId)).filter((e) => e.action === 'checkin');
  expect(noted).toHaveLength(1);
}, 120_000);

it('a check-in due while two instances run is posted once, by one of them', async () => {
  const w = await world();
  const a = await instance('a', w.api, w.prefix, 30_000);
  const b = await instance('b', w.api, w.prefix, 30_000);
  const target = await askForCheckin(w, a, 'U0CHKTWO');
  const due = await comeDue(w, 'U0CHKTWO', target.sessionId);
  await until(() => w.slack.visible('DU0CHKTWO').some((m) => m.text === MESSAGE), { timeoutMs: 15_000, what: () => `the check-in to be posted:\n${a.stderr.slice(-1500)}\n${b.stderr.slice(-1500)}` });
  await settledAndQuiet(w, 'U0CHKTWO', due);

  expect(w.slack.visible('DU0CHKTWO').filter((m) => m.text === MESSAGE)).toHaveLength(1);
  const sent = (s: string) => s.split('\n').filter((l) => l.includes('"msg":"check-in"') && l.includes('"outcome":"sent"')).length;
  expect(sent(a.stderr) + sent(b.stderr)).toBe(1);
}, 120_000);
