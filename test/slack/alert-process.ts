/**
 * What the safety-alert process tests share (alerts-process.test.ts, alerts-ack-process.test.ts):
 * the bot's environment, a person writing in a DM and waiting for each answer, and the point
 * after which no further alert can come (the turn answered, the alert queue empty).
 */
import { PLACEHOLDER } from '../../adapters/slack/outlet.js';
import { RedisAlertQueue, type AlertQueue } from '../../src/index.js';
import { FakeSlack, eventCallback, sendSigned, type SlackMessage } from '../fakes/slack.js';
import { BotProcess, processEnv } from '../queue/bot-process.js';
import { REDIS_URL, cleanup, client, uniquePrefix } from '../redis/helpers.js';
import { useStops } from '../stops.js';
import { until } from '../wait.js';

export const SECRET = 'alerts-process-secret';
export const ALERTS = 'C0ALERTS';
export const TEAM_NAME = 'the Acme care team';
export const CRISIS = 'I want to kill myself';

/** The environment of one bot process: Slack over HTTP against the fake, Redis under `prefix`, the offline responder. */
export function botEnv(api: string, prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...processEnv(REDIS_URL, prefix),
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: api,
    SAFETY_ALERT_SLACK_CHANNEL: ALERTS,
    SAFETY_ALERT_TEAM_NAME: TEAM_NAME,
    ...extra,
  };
}

/** Started: the last start-up line (after the receiver, the queue worker and the alert worker). */
export const startedLine = (stderr: string): boolean => stderr.includes('"msg":"safety alerts"');

/**
 * Per test: a fake Slack, a Redis prefix (with an alert queue and a client on it) and the bot
 * processes started, all stopped and removed after the test.
 */
export function useWorlds() {
  const defer = useStops();
  return {
    /** Stops something more after the test (before what was started earlier). */
    defer,
    async world() {
      const slack = new FakeSlack();
      const api = await slack.start();
      const prefix = uniquePrefix();
      const redis = client();
      const queue = new RedisAlertQueue({ client: redis, prefix });
      defer(async () => {
        await slack.stop();
        await cleanup(prefix);
        redis.disconnect();
      });
      return { slack, api, prefix, redis, queue };
    },
    async bot(name: string, env: Record<string, string>): Promise<BotProcess> {
      const b = await BotProcess.start(name, env, [], startedLine);
      defer(() => b.terminate());
      return b;
    },
  };
}

/** The alerts posted to the responders' channel, as they stand now (edits applied). */
export function alertsIn(slack: FakeSlack, channel = ALERTS): SlackMessage[] {
  return slack.visible(channel);
}

/** Every alert job delivered: nothing is left that could still post (or edit) an alert. */
export async function settled(queue: Pick<AlertQueue, 'pending'>): Promise<void> {
  await until(async () => (await queue.pending()) === 0, { timeoutMs: 15_000, what: 'the alert queue to have no pending job' });
}

let seq = 0;

/** A DM message event, kept to send again (a redelivery). */
export interface DmEvent {
  ts: string;
  body: ReturnType<typeof eventCallback>;
}

/** A person in a DM with the bot: each `say` sends a signed message event and waits for its answer. */
export function dmSender(slack: FakeSlack, url: string, channel: string, user: string) {
  const replies = (): string[] => slack.visible(channel).map((m) => m.text);
  const answered = (): number => replies().filter((t) => t !== PLACEHOLDER).length;
  return {
    replies,
    /** The event sent, for a redelivery. */
    event(text: string): DmEvent {
      const ts = `${Math.floor(Date.now() / 1000)}.${String(++seq).padStart(6, '0')}`;
      return { ts, body: eventCallback({ type: 'message', channel, channel_type: 'im', user, text, ts }) };
    },
    /** Sends `text` (or a prepared event) to `to` and waits until one more answer stands in the DM. */
    async say(text: string, opts: { to?: string; retryNum?: number; prepared?: DmEvent } = {}): Promise<DmEvent> {
      const before = answered();
      const e = opts.prepared ?? this.event(text);
      const { status } = await sendSigned(opts.to ?? url, e.body, SECRET, opts.retryNum ? { retryNum: opts.retryNum } : {});
      if (status !== 200) throw new Error(`the bot answered ${status}`);
      await until(() => answered() > before && replies().every((t) => t !== PLACEHOLDER), { timeoutMs: 15_000, what: () => `an answer in ${channel}; it shows ${JSON.stringify(replies())}` });
      return e;
    },
  };
}
