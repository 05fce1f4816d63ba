/**
 * A check-in test's world on real Redis (a unique prefix, cleaned up by `close`): the session
 * store, marks and schedule, and the real Engine with the real config, all on one clock the
 * test moves (the engine stamps a turn's last activity with it; the worker reads it).
 */
import { Engine, RedisMarks, RedisSessionStore, type TurnInput } from '../../src/index.js';
import { RedisCheckinSchedule } from '../../src/checkins/redis-checkin-schedule.js';
import { CheckinWorker, type CheckinOutcome, type CheckinWorkerOptions } from '../../src/checkins/checkin-worker.js';
import { lastActiveOf } from '../../src/checkins/last-active.js';
import { repoConfig, repoRetriever } from '../helpers.js';
import { cleanup, client, uniquePrefix } from '../redis/helpers.js';

/** Friday 10 January 2025, 12:00 in London (GMT = UTC); the check-in is set for 18:30 there. */
export const NOON = Date.parse('2025-01-10T12:00:00Z');
export const DUE = Date.parse('2025-01-10T18:30:00Z');
export const DAY = 86_400_000;

export async function checkinWorld() {
  const prefix = uniquePrefix();
  const redis = client();
  const clock = { now: NOON };
  const store = new RedisSessionStore({ client: redis, prefix });
  const marks = new RedisMarks(redis, prefix);
  const schedule = new RedisCheckinSchedule(redis, prefix, () => clock.now);
  const engine = new Engine({ config: repoConfig(), store, retriever: repoRetriever(), marks, checkins: schedule, options: { now: () => new Date(clock.now) } });
  const outcomes: CheckinOutcome[] = [];
  let n = 0;
  /** A DM turn of `user` (Slack), as the Slack listener hands it over. */
  const dm = (text: string, user = 'U1') => {
    const input: TurnInput = { sessionId: `slack:T1:D${user}`, userId: user, platform: 'slack', tenant: 'T1', text, direct: true, origin: { replyTo: { channel: `D${user}`, isDm: true }, messageId: `m${++n}` } };
    return engine.handleTurn(input);
  };
  const worker = (o: Partial<CheckinWorkerOptions> & Pick<CheckinWorkerOptions, 'outlets'>) =>
    new CheckinWorker({ schedule, message: repoConfig().responses.settings.checkin_message, marks, store, lastActive: lastActiveOf(store), now: () => clock.now, onOutcome: (x) => outcomes.push(x), pollMs: 20, ...o });
  return {
    prefix,
    redis,
    clock,
    store,
    marks,
    schedule,
    engine,
    outcomes,
    dm,
    worker,
    message: repoConfig().responses.settings.checkin_message,
    /** Asks for the 18:30 London check-in in U1's DM (at the clock's time). */
    async ask(user = 'U1') {
      await dm('settings timezone Europe/London', user);
      const r = await dm('settings checkins 18:30', user);
      if (r.outcome !== 'answered') throw new Error(`settings checkins: ${r.outcome}`);
    },
    async close() {
      await cleanup(prefix);
      redis.disconnect();
    },
  };
}
