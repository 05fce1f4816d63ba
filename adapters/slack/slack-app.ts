/**
 * Builds the Bolt app: HTTP mode (signed requests to /slack/events on PORT) or,
 * with SLACK_APP_TOKEN, Socket Mode. Events are acknowledged before the turn
 * runs (processBeforeResponse: false), so Slack never waits on the engine.
 */
import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type Logger as BoltLogger } from '@slack/bolt';
import type { AddressInfo } from 'node:net';
import { errorCode } from '../../src/index.js';
import type { Engine, Logger, Marks } from '../../src/index.js';
import { SlackDelivery } from './delivery.js';
import { registerListeners } from './listeners.js';

export interface SlackSettings {
  botToken: string;
  signingSecret?: string | undefined;
  appToken?: string | undefined;
  apiUrl?: string | undefined;
  port: number;
  allowChannels: boolean;
}

export interface SlackRunner {
  app: App;
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

export interface SlackDeps {
  engine: Pick<Engine, 'handleTurn' | 'texts' | 'noteDelivery' | 'crisisResponse'>;
  marks: Marks;
  logger: Logger;
  /** Tests: show the placeholder sooner. */
  placeholderAfterMs?: number;
  /** Tests: redeliver sooner. */
  redeliverDelaysMs?: number[];
}

export function createSlackApp(settings: SlackSettings, deps: SlackDeps): SlackRunner {
  const logger = boltLogger(deps.logger);
  // rejectRateLimitedCalls: the client's own 429 handling pauses every call; SlackDelivery retries per call instead.
  // Two quick retries and a 10 s timeout, not the client's default of ten retries over ~30 minutes:
  // a reply (a crisis response included) must not wait that long; SlackDelivery redelivers later instead.
  const clientOptions = {
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 2000 },
    timeout: 10_000,
    ...(settings.apiUrl ? { slackApiUrl: settings.apiUrl } : {}),
  };
  const socket = Boolean(settings.appToken);
  const receiver = socket
    ? new SocketModeReceiver({ appToken: settings.appToken!, logger, installerOptions: { clientOptions } })
    : new HTTPReceiver({ signingSecret: settings.signingSecret ?? '', endpoints: '/slack/events', processBeforeResponse: false, logger });
  const app = new App({ token: settings.botToken, receiver, logger, logLevel: LogLevel.INFO, clientOptions });
  const delivery = new SlackDelivery({
    logger: deps.logger,
    onDelivery: (sessionId, delivered) => void deps.engine.noteDelivery(sessionId, delivered),
    ...(deps.redeliverDelaysMs ? { redeliverDelaysMs: deps.redeliverDelaysMs } : {}),
  });
  registerListeners(app, {
    engine: deps.engine,
    marks: deps.marks,
    delivery,
    logger: deps.logger,
    allowChannels: settings.allowChannels,
    ...(deps.placeholderAfterMs !== undefined ? { placeholderAfterMs: deps.placeholderAfterMs } : {}),
  });
  app.error(async (err) => {
    deps.logger.error({ err: errorCode(err) }, 'Slack app error');
  });
  return {
    app,
    mode: socket ? 'socket' : 'http',
    async start() {
      const server = (await app.start(settings.port)) as { address?: () => AddressInfo | string | null } | undefined;
      const address = typeof server?.address === 'function' ? server.address() : null;
      return address && typeof address === 'object' ? address.port : undefined;
    },
    async stop() {
      delivery.stop();
      await app.stop();
    },
  };
}
