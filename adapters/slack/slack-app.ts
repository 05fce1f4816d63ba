/**
 * Builds the Bolt app: HTTP mode (signed requests to /slack/events on PORT) or,
 * with SLACK_APP_TOKEN, Socket Mode. Events are acknowledged before the turn
 * runs (processBeforeResponse: false), so Slack never waits on the engine.
 */
import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type Logger as BoltLogger } from '@slack/bolt';
import type { AddressInfo } from 'node:net';
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

/** Bolt logs through ours (never message text: Bolt logs event types and errors). */
function boltLogger(logger: Logger): BoltLogger {
  let level = LogLevel.INFO;
  return {
    debug: (...m: unknown[]) => logger.debug({ bolt: String(m[0]) }),
    info: (...m: unknown[]) => logger.info({ bolt: String(m[0]) }),
    warn: (...m: unknown[]) => logger.warn({ bolt: String(m[0]) }),
    error: (...m: unknown[]) => logger.error({ bolt: String(m[0] instanceof Error ? m[0].name : m[0]) }),
    setLevel: (l: LogLevel) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}

export interface SlackDeps {
  engine: Pick<Engine, 'handleTurn' | 'texts' | 'noteDelivery'>;
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
  const clientOptions = { rejectRateLimitedCalls: true, ...(settings.apiUrl ? { slackApiUrl: settings.apiUrl } : {}) };
  const socket = Boolean(settings.appToken);
  const receiver = socket
    ? new SocketModeReceiver({ appToken: settings.appToken!, logger, installerOptions: { clientOptions } })
    : new HTTPReceiver({ signingSecret: settings.signingSecret ?? '', endpoints: '/slack/events', processBeforeResponse: false, logger });
  const app = new App({ token: settings.botToken, receiver, logger, clientOptions });
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
    deps.logger.error({ err: (err as { code?: string }).code ?? err.name }, 'Slack app error');
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
