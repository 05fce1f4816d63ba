/**
 * Builds the Bolt app: HTTP mode (signed requests to /slack/events on PORT) or,
 * with SLACK_APP_TOKEN, Socket Mode. A message event is acknowledged once it is
 * in the turn queue (HTTP: processBeforeResponse, so an instance that dies first
 * leaves Slack to retry); the turn runs later, on whichever worker takes it.
 */
import { App, LogLevel, SocketModeReceiver, webApi, type CustomRoute, type Logger as BoltLogger } from '@slack/bolt';
import type { AddressInfo } from 'node:net';
import { errorCode } from '../../src/index.js';
import { MemoryTurnQueue, countDuplicates } from '../../src/index.js';
import type { Engine, Logger } from '../../src/index.js';
import { SlackDelivery } from './delivery.js';
import type { AdapterDeps } from '../common/adapter-deps.js';
import { registerAlertActions } from './alert-actions.js';
import { SlackEdgeReceiver, type EdgeRejection } from './edge/edge-receiver.js';
import { guardSocketFrames, guardSocketReceiver } from './edge/socket-guard.js';
import { registerListeners } from './listeners.js';
import { SlackOutlet } from './outlet.js';
import { SlackUserCountry } from './user-country.js';

export interface SlackSettings {
  botToken: string;
  signingSecret?: string | undefined;
  appToken?: string | undefined;
  apiUrl?: string | undefined;
  port: number;
  allowChannels: boolean;
  /** HTTP mode: more routes beside /slack/events on the same port (health, metrics). */
  customRoutes?: CustomRoute[] | undefined;
  /** HTTP mode: time limits for a request's headers and for the whole request (defaults 5 s and 10 s; tests use less). */
  edgeTimeouts?: { headersTimeoutMs?: number; requestTimeoutMs?: number } | undefined;
}

export interface SlackRunner {
  app: App;
  /** Posts queued turns' replies (a worker in this process uses it). */
  outlet: SlackOutlet;
  mode: 'http' | 'socket';
  /** Starts listening; resolves with the bound port in HTTP mode. */
  start(): Promise<number | undefined>;
  stop(): Promise<void>;
}

/**
 * Bolt logs through ours. Its debug messages carry whole payloads (the person's text, request
 * bodies), so they are dropped; info and warn are operational lines; errors are reduced to a name.
 */
function boltLogger(logger: Logger): BoltLogger {
  let level = LogLevel.INFO;
  return {
    debug: () => undefined,
    info: (...m: unknown[]) => logger.info({ bolt: String(m[0]) }),
    warn: (...m: unknown[]) => logger.warn({ bolt: String(m[0]) }),
    error: (...m: unknown[]) => logger.error({ bolt: String(m[0] instanceof Error ? m[0].name : m[0]) }),
    setLevel: (l: LogLevel) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}

export interface SlackDeps extends AdapterDeps {
  engine: Pick<Engine, 'handleTurn' | 'texts' | 'noteLateDelivery' | 'crisisResponse'>;
  onEdgeReject?(reason: EdgeRejection): void;
  /** Tests: show the placeholder sooner. */
  placeholderAfterMs?: number;
  /** Tests: redeliver sooner. */
  redeliverDelaysMs?: number[];
}

/**
 * Web API client options. rejectRateLimitedCalls: the client's own 429 handling pauses every
 * call; SlackDelivery retries per call instead. Two quick retries and a 10 s timeout, not the
 * client's default of ten retries over ~30 minutes: a reply (a crisis response included) must
 * not wait that long; SlackDelivery redelivers later instead.
 */
export function webClientOptions(apiUrl: string | undefined) {
  return {
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 2000 },
    timeout: 10_000,
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
  };
}

function newDelivery(deps: Pick<SlackDeps, 'engine' | 'logger' | 'redeliverDelaysMs'>): SlackDelivery {
  return new SlackDelivery({
    logger: deps.logger,
    onLateDelivery: (sessionId) => void deps.engine.noteLateDelivery(sessionId),
    ...(deps.redeliverDelaysMs ? { redeliverDelaysMs: deps.redeliverDelaysMs } : {}),
  });
}

/** A worker's Slack outlet without a receiver (`--role worker`): a plain Web API client. */
export function createSlackOutlet(
  settings: Pick<SlackSettings, 'botToken' | 'apiUrl'>,
  deps: Pick<SlackDeps, 'engine' | 'logger' | 'marks' | 'placeholderAfterMs' | 'redeliverDelaysMs'>,
): { outlet: SlackOutlet; stop: () => void } {
  const delivery = newDelivery(deps);
  const client = new webApi.WebClient(settings.botToken, webClientOptions(settings.apiUrl));
  return { outlet: new SlackOutlet(client, delivery, deps.marks, deps.placeholderAfterMs), stop: () => delivery.stop() };
}

function defaultQueue(deps: SlackDeps, outlet: SlackOutlet): MemoryTurnQueue {
  const queue = new MemoryTurnQueue({ engine: deps.engine, outlets: { slack: outlet }, logger: deps.logger, limits: deps.limits, limitedReply: deps.limitedReply, onReplied: deps.metrics?.replied, orderWindowMs: deps.orderWindowMs });
  return deps.metrics ? countDuplicates(queue, deps.metrics) : queue;
}

function guardSocket(receiver: SocketModeReceiver, deps: SlackDeps): SocketModeReceiver {
  guardSocketFrames(receiver, deps.logger, deps.onEdgeReject);
  return guardSocketReceiver(receiver, deps.logger, deps.onEdgeReject);
}

export function createSlackApp(settings: SlackSettings, deps: SlackDeps): SlackRunner {
  const logger = boltLogger(deps.logger);
  const clientOptions = webClientOptions(settings.apiUrl);
  const socket = Boolean(settings.appToken);
  // Every request is checked at the edge (edge/) before Bolt sees it, in both modes.
  const receiver = socket
    ? guardSocket(new SocketModeReceiver({ appToken: settings.appToken!, logger, installerOptions: { clientOptions } }), deps)
    : new SlackEdgeReceiver({ signingSecret: settings.signingSecret ?? '', logger: deps.logger, customRoutes: settings.customRoutes ?? [], ...settings.edgeTimeouts, ...(deps.onEdgeReject ? { onReject: deps.onEdgeReject } : {}) });
  // The bot's identity (auth.test) is asked for on the first event and kept, instead of in
  // Bolt's constructor: there a Slack that cannot be reached at start-up is an unhandled
  // rejection that ends the process. A failure must not fail the event either (Bolt would
  // ack it and the message would be lost): the event goes on with the token alone (bot
  // messages are still ignored by their bot_id, mentions stripped by pattern) and the next
  // event asks again.
  const client = new webApi.WebClient(settings.botToken, clientOptions);
  let identity: Promise<{ botUserId?: string; botId?: string }> | undefined;
  const authorize = async () => {
    identity ??= client.auth.test().then((r) => ({ ...(r.user_id ? { botUserId: r.user_id } : {}), ...(r.bot_id ? { botId: r.bot_id } : {}) }));
    try {
      return { botToken: settings.botToken, ...(await identity) };
    } catch (err) {
      identity = undefined;
      deps.logger.warn({ err: errorCode(err) }, 'Slack auth.test failed; answering this event without the bot identity');
      return { botToken: settings.botToken };
    }
  };
  const app = new App({ authorize, receiver, logger, logLevel: LogLevel.INFO, clientOptions });
  const delivery = newDelivery(deps);
  const outlet = new SlackOutlet(client, delivery, deps.marks, deps.placeholderAfterMs);
  const queue = deps.queue ?? defaultQueue(deps, outlet);
  registerListeners(app, { engine: deps.engine, marks: deps.marks, queue, delivery, logger: deps.logger, allowChannels: settings.allowChannels, userCountry: new SlackUserCountry(deps.logger) });
  const alerts = deps.alerts;
  if (alerts) registerAlertActions(app, { acknowledge: (episode, by, now) => alerts.acknowledge(episode, by, now), logger: deps.logger });
  app.error(async (err) => {
    deps.logger.error({ err: errorCode(err) }, 'Slack app error');
  });
  return {
    app,
    outlet,
    mode: socket ? 'socket' : 'http',
    async start() {
      const server = (await app.start(settings.port)) as { address?: () => AddressInfo | string | null } | undefined;
      const address = typeof server?.address === 'function' ? server.address() : null;
      return address && typeof address === 'object' ? address.port : undefined;
    },
    async stop() {
      await app.stop(); // stop receiving first
      if (queue instanceof MemoryTurnQueue) await queue.stop(5000);
      delivery.stop();
    },
  };
}
