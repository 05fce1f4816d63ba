/**
 * The same edge check for Socket Mode: Bolt's SocketModeReceiver hands every envelope's
 * payload to `app.processEvent`; the receiver is given a stand-in app that sorts the
 * payload first (shapes.ts) and acknowledges what the bot does not handle instead of
 * passing it on. Slash commands arrive as objects here, not as forms.
 *
 * One step earlier, the Socket Mode client itself reads `payload.event.type` of every
 * `events_api` frame outside any try/catch: an envelope whose event is not an object would be
 * an unhandled rejection and never acknowledged (Slack would redeliver it). Its frame handler
 * is wrapped: such a frame is acknowledged and dropped, and anything the client throws on is
 * acknowledged and logged by code.
 */
import type { App, Receiver, ReceiverEvent, SocketModeReceiver } from '@slack/bolt';
import { errorCode } from '../../../src/index.js';
import type { Logger } from '../../../src/index.js';
import type { EdgeRejection } from './edge-receiver.js';
import { classify } from './shapes.js';

export function guardSocketReceiver<R extends Receiver>(receiver: R, logger: Logger, onReject?: (reason: EdgeRejection) => void): R {
  const init = receiver.init.bind(receiver);
  receiver.init = (app: App) => {
    const guarded = {
      processEvent: async (event: ReceiverEvent) => {
        const body: unknown = event.body;
        const form = body !== null && typeof body === 'object' && 'command' in body;
        const verdict = classify(body, form);
        if (verdict.kind === 'dispatch') return app.processEvent({ ...event, body: verdict.body });
        if (verdict.kind === 'drop') {
          onReject?.('malformed');
          logger.warn({ ...(verdict.eventId ? { eventId: verdict.eventId } : {}), reason: verdict.reason }, 'Slack request dropped at the edge');
        }
        await event.ack();
      },
    };
    init(guarded as unknown as App);
  };
  return receiver;
}

/** The parts of the Socket Mode client used here (`send` is private in its types). */
interface FrameClient {
  onWebSocketMessage(data: unknown, isBinary: boolean): Promise<void>;
  send(id: string, body?: object): Promise<void>;
  removeAllListeners(event: string): unknown;
  on(event: string, fn: (...args: never[]) => void): unknown;
}

/** Wraps the Socket Mode client's frame handler (see the note at the top). */
export function guardSocketFrames(receiver: SocketModeReceiver, logger: Logger, onReject?: (reason: EdgeRejection) => void): void {
  const client = receiver.client as unknown as FrameClient;
  const handle = client.onWebSocketMessage.bind(client);
  const ack = (id: unknown) => {
    if (typeof id === 'string' && id.length <= 200) void client.send(id).catch(() => undefined);
  };
  client.removeAllListeners('ws_message');
  client.on('ws_message', (data: unknown, isBinary: boolean) => {
    let frame: { type?: unknown; envelope_id?: unknown; payload?: unknown } | undefined;
    try {
      const text = typeof data === 'string' ? data : new TextDecoder().decode(data as ArrayBuffer);
      const parsed: unknown = JSON.parse(text);
      frame = parsed !== null && typeof parsed === 'object' ? (parsed as typeof frame) : undefined;
    } catch {
      frame = undefined; // the client ignores what it cannot parse
    }
    const payload = frame?.payload as { event?: unknown } | undefined;
    if (frame?.type === 'events_api' && (payload === null || typeof payload !== 'object' || payload.event === null || typeof payload.event !== 'object' || Array.isArray(payload.event))) {
      onReject?.('malformed');
      logger.warn({ reason: 'payload.event: invalid_type' }, 'Slack request dropped at the edge');
      return ack(frame.envelope_id);
    }
    handle(data, isBinary).catch((err: unknown) => {
      onReject?.('failed');
      logger.error({ err: errorCode(err) }, 'Slack Socket Mode frame failed; acknowledged');
      ack(frame?.envelope_id);
    });
  });
}
