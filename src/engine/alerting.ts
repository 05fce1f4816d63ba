/**
 * Safety alerts, as a turn decides them: which steps raise one (the start of a stay in the
 * safety state; the `human` command) and what the person is told, which is only ever what is
 * true: "I've let <team> know" when this tenant's alerts go somewhere, nothing otherwise.
 * Raising the alert is the engine's (engine.ts), before the reply is posted.
 */
import type { SafetyConfig } from '../config/schemas.js';
import type { AlertKind, AlertTarget } from '../safety/alerts/alert.js';
import { episodeId } from '../safety/alerts/episode.js';
import type { SafetyOutcome, SafetyState } from '../safety/protocol.js';
import { fillSlots } from '../text/template.js';
import type { AlertRequest, Step } from './types.js';

/** How a turn reaches the alert routing: the tenant's target, and the seed of this turn's episode id. */
export interface TurnAlerting {
  target: AlertTarget | null;
  sessionId: string;
  seed: string;
}

/**
 * A safety step with its alert: a referral that starts a stay in the safety state raises one
 * (the kind of risk, or `confirmed` for a yes to the check-in) and the crisis response says so;
 * a later referral in the same stay says so again but raises nothing; leaving the state ends
 * the episode (the next stay alerts again).
 */
export function withAlert(config: SafetyConfig, before: SafetyState, outcome: SafetyOutcome, a: TurnAlerting | undefined): { reply: string; state: SafetyState; alert?: AlertRequest } {
  const state = { ...outcome.state };
  if (!state.active) return { reply: outcome.reply, state: { ...state, episode: undefined } };
  if (outcome.event !== 'referral' || !a?.target) return { reply: outcome.reply, state };
  const told = fillSlots(config.alerts.told, { team: a.target.team });
  const reply = insertBeforeLastLine(outcome.reply, told);
  if (before.active) return { reply: before.episode ? reply : outcome.reply, state };
  const episode = episodeId(a.sessionId, a.seed);
  const kind: AlertKind = outcome.reason === 'check_in_confirmed' ? 'confirmed' : (outcome.kind ?? 'crisis');
  return { reply, state: { ...state, episode }, alert: { kind, episode } };
}

/** The `human` command: an alert of kind `requested` when alerts go somewhere; the safety state is not entered. */
export function humanStep(config: SafetyConfig, state: Step['state'], a: TurnAlerting | undefined): Step {
  const base = { kind: 'command' as const, state, keepUserText: true, action: 'human' };
  if (!a?.target) return { ...base, reply: config.alerts.human_unavailable };
  const team = { team: a.target.team };
  const alert: AlertRequest = { kind: 'requested', episode: episodeId(a.sessionId, a.seed), replyIfOpen: fillSlots(config.alerts.human_open, team) };
  return { ...base, reply: fillSlots(config.alerts.human_sent, team), alert };
}

/** The crisis response ends with its question ("are you safe right now?"): the told line goes just before it. */
function insertBeforeLastLine(reply: string, line: string): string {
  const at = reply.lastIndexOf('\n');
  return at < 0 ? `${reply}\n${line}` : `${reply.slice(0, at)}\n${line}${reply.slice(at)}`;
}
