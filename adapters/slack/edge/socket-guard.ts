/**
 * The same edge check for Socket Mode: Bolt's SocketModeReceiver hands every envelope's
 * payload to `app.processEvent`; the receiver is given a stand-in app that sorts the
 * payload first (shapes.ts) and acknowledges what the bot does not handle instead of
 * passing it on. Slash commands arrive as objects here, not as forms.
 */
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
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
