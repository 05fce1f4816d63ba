/**
 * The "I'm on it" button on a safety alert (alert-notifier.ts posts it): the first responder to
 * press it takes the alert (the queue records who, once, across instances); a later press is
 * told who took it. The gateway guard has checked the whole interaction first (shapes.ts
 * AlertButton): what reaches here has a snowflake user and a well-formed episode id.
 *
 * On "acknowledged" the press itself updates the alert message (taken line, no button), so the
 * taker sees it at once and nobody presses a button that is already gone; the worker's ack job
 * then edits the same message to the same content (idempotent) and edits the alert's other
 * destinations (Slack, webhook).
 *
 * Discord wants an answer within 3 s of the interaction's creation, and Redis may be slow or
 * down: the queue gets until INTERACTION_DEADLINE_MS, after which the press is deferred (an
 * ephemeral "thinking…") and the outcome follows as an edit of that reply.
 */
import { MessageFlags, type ButtonInteraction } from 'discord.js';
import { ACK_ACTION, errorCode, isEpisodeId } from '../../src/index.js';
import type { AckOutcome, AlertQueue, Logger } from '../../src/index.js';
import { discordWho, takenContent } from './alert-notifier.js';

export interface AlertButtonDeps {
  alerts: Pick<AlertQueue, 'acknowledge'>;
  logger: Logger;
}

const PREFIX = `${ACK_ACTION}:`;
/** Time for the queue before the press is deferred (Discord's limit is 3 s from creation). */
const INTERACTION_DEADLINE_MS = 2000;

export const ACK_REPLIES = {
  unknown: 'This alert is no longer on record.',
  failed: 'Could not record that just now; press again in a moment.',
  /** Only after a deferral (the press took longer than Discord waits): otherwise the alert's update says it. */
  acknowledged: 'You have taken this alert.',
} as const;

/** The episode an alert button names, or undefined when the custom id is not one of ours. */
export function alertEpisodeOf(customId: string): string | undefined {
  if (!customId.startsWith(PREFIX)) return undefined;
  const episode = customId.slice(PREFIX.length);
  return isEpisodeId(episode) ? episode : undefined;
}

/** Times as the taken line shows them (`2026-01-02 03:04:05 UTC`). */
const when = (at: string) => at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC').replace(/Z$/, ' UTC');

export function alreadyTaken(outcome: AckOutcome): string {
  return outcome.ack ? `Already taken by ${discordWho(outcome.ack.by)} at ${when(outcome.ack.at)}.` : 'Already taken.';
}

/** Answers one press of an alert button (the caller checked `alertEpisodeOf(customId)`). */
export async function onAlertButton(deps: AlertButtonDeps, interaction: ButtonInteraction, episode: string): Promise<void> {
  const deadline = interaction.createdTimestamp + INTERACTION_DEADLINE_MS;
  const by = `discord:${interaction.user.id}`;
  const outcome = deps.alerts.acknowledge(episode, by).then(
    (o) => ({ ok: true as const, o }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  const quick = await Promise.race([outcome, new Promise<null>((r) => setTimeout(() => r(null), Math.max(0, deadline - Date.now())))]);
  if (quick === null) {
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const late = await outcome;
    if (!late.ok) deps.logger.warn({ err: errorCode(late.err) }, 'Safety alert acknowledgement not recorded');
    const content = !late.ok ? ACK_REPLIES.failed : late.o.outcome === 'acknowledged' ? ACK_REPLIES.acknowledged : late.o.outcome === 'taken' ? alreadyTaken(late.o) : ACK_REPLIES.unknown;
    await interaction.editReply({ content, allowedMentions: { parse: [] } });
    return;
  }
  if (!quick.ok) {
    deps.logger.warn({ err: errorCode(quick.err) }, 'Safety alert acknowledgement not recorded');
    await interaction.reply({ content: ACK_REPLIES.failed, flags: MessageFlags.Ephemeral });
    return;
  }
  const { o } = quick;
  if (o.outcome === 'acknowledged') {
    deps.logger.info({ episode }, 'Safety alert taken');
    if (o.record && o.ack) await interaction.update({ content: takenContent(o.record, o.ack), components: [], allowedMentions: { parse: [] } });
    else await interaction.deferUpdate(); // the worker's ack job edits the alert
    return;
  }
  const content = o.outcome === 'taken' ? alreadyTaken(o) : ACK_REPLIES.unknown;
  await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
}
