/**
 * The "I'm on it" button on a safety alert (alert-notifier.ts posts it). The first responder
 * to press it takes the alert: the queue records who and when (no text), and the worker's ack
 * job edits the alert to say so. A later press is told, only to the presser, who took it.
 *
 * The edge (edge/shapes.ts) lets through only a block_actions payload with exactly this one
 * action and string ids; the value is checked again here before it reaches Redis. Logs carry
 * ids and outcomes only.
 */
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { ACK_ACTION, errorCode, isEpisodeId } from '../../src/index.js';
import type { AlertQueue, Logger } from '../../src/index.js';
import { slackWho } from './alert-notifier.js';

export interface AlertActionDeps {
  acknowledge: AlertQueue['acknowledge'];
  logger: Logger;
}

export const ALREADY_GONE = 'This alert is no longer on record.';
export const TRY_AGAIN = 'Could not record that just now; press again in a moment.';

/** `2026-12-03T07:30:00.000Z` -> `2026-12-03 07:30:00 UTC` (as alert.ts writes times). */
function when(at: string): string {
  return at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC').replace(/Z$/, ' UTC');
}

export function registerAlertActions(app: App, deps: AlertActionDeps): void {
  app.action<BlockAction<ButtonAction>>(ACK_ACTION, async ({ ack, body, action, client }) => {
    await ack(); // at once: Slack shows an error to the presser after 3 s
    const episode = action.value;
    const user = body.user.id;
    const channel = body.channel?.id;
    if (!isEpisodeId(episode)) {
      deps.logger.warn({ user }, 'Safety alert button with a malformed episode refused');
      return;
    }
    const tell = async (text: string) => {
      if (!channel) return;
      try {
        await client.chat.postEphemeral({ channel, user, text });
      } catch (err) {
        deps.logger.warn({ episode, user, err: errorCode(err) }, 'Could not answer a safety alert button press');
      }
    };
    let result: Awaited<ReturnType<AlertQueue['acknowledge']>>;
    try {
      result = await deps.acknowledge(episode, `slack:${user}`);
    } catch (err) {
      deps.logger.error({ episode, user, err: errorCode(err) }, 'Safety alert acknowledgement failed');
      return tell(TRY_AGAIN);
    }
    switch (result.outcome) {
      case 'acknowledged':
        deps.logger.info({ episode, user }, 'Safety alert taken');
        return; // the worker's ack job edits the alert to say who took it
      case 'taken':
        deps.logger.info({ episode, user, by: result.ack?.by }, 'Safety alert pressed again; already taken');
        return tell(result.ack ? `Already taken by ${slackWho(result.ack.by)} at ${when(result.ack.at)}.` : 'Already taken.');
      case 'unknown':
        deps.logger.warn({ episode, user }, 'Safety alert button for an episode not on record');
        return tell(ALREADY_GONE);
    }
  });
}
