/**
 * Safety alerts: when the crisis protocol fires (or a person asks for a human), a designated
 * responder hears about it, without the bot broadcasting what the person wrote. These are the
 * platform-free shapes; the queue that delivers them is alert-queue.ts, the loop that posts
 * them alert-worker.ts, and each destination (Slack, Discord, a webhook) is an AlertNotifier.
 */

/**
 * Why the alert was raised: the risk kind that opened the episode, `requested` (the `human`
 * command), or `test`: an operator's drill (`npm run safety -- test`), nobody in danger.
 */
export type AlertKind = 'crisis' | 'self_harm' | 'confirmed' | 'requested' | 'test';

/** Where an alert can go. */
export type AlertDestination = 'slack' | 'discord' | 'webhook';
export const ALERT_DESTINATIONS: readonly AlertDestination[] = ['slack', 'discord', 'webhook'];

/**
 * Where the person's conversation is, in their platform's terms: opaque to the engine, read
 * only by that platform's link resolver (a Slack permalink, a Discord message link).
 */
export interface AlertOrigin {
  replyTo: Record<string, unknown>;
  /** The platform's id of the message that fired the protocol (the queue's message id). */
  messageId?: string | undefined;
}

/** One episode's alert: what every destination is told. Never the person's words, unless `text` (include_text). */
export interface SafetyAlert {
  /** `ep_` and 16 hex digits: one entry into the safety state (or one `human` request). */
  episode: string;
  kind: AlertKind;
  /** The person's platform (`slack`, `discord`, `console`). */
  platform: string;
  /** Tenant name (tenants.json), when the conversation belongs to one. */
  tenant?: string | undefined;
  /** The session reference: the session id. */
  sessionId: string;
  /** The person, as their platform knows them (for a mention: responders need to know whom to reach). */
  userId: string;
  /** When the protocol fired (ISO 8601). */
  at: string;
  origin?: AlertOrigin | undefined;
  /** The message text, only when the tenant's config sets include_text (a deliberate, audited choice). */
  text?: string | undefined;
}

/** Where one tenant's alerts go (tenants.json `safety_alert`, else the SAFETY_ALERT_* settings). */
export interface AlertTarget {
  slackChannel?: string | undefined;
  discordChannel?: string | undefined;
  webhookUrl?: string | undefined;
  /** Put the person's message text into the alert (default false). */
  includeText: boolean;
  /** Who is told, as the person reads it ("I've let <team> know…"). */
  team: string;
  /** While nobody has taken the alert, remind its destinations this long after it was raised, and as long again after each reminder (at most MAX_REMINDERS). Absent or 0: no reminders. */
  remindAfterMs?: number | undefined;
}

/** The destinations a target names, in a fixed order. */
export function destinationsOf(t: AlertTarget): AlertDestination[] {
  return [...(t.slackChannel ? ['slack' as const] : []), ...(t.discordChannel ? ['discord' as const] : []), ...(t.webhookUrl ? ['webhook' as const] : [])];
}

/** Where a posted alert is, to edit it when someone takes it: a channel and the platform's message id. */
export interface SentRef {
  channel: string;
  id: string;
}

/** Who took the alert, and when (ISO 8601). `by`: `slack:<user>`, `discord:<user>` or `cli:<name>`. */
export interface Acknowledgement {
  by: string;
  at: string;
}

/** An alert as the queue keeps it: the alert, its target, what each destination did, the acknowledgement. */
export interface AlertRecord {
  alert: SafetyAlert;
  target: AlertTarget;
  /** A link to the conversation, once resolved (Slack permalink, Discord message link). */
  link?: string | undefined;
  sent: Partial<Record<AlertDestination, SentRef | 'posted'>>;
  failed: AlertDestination[];
  /** Reminders posted so far, per destination, while nobody had taken it. */
  reminded?: Partial<Record<AlertDestination, number>> | undefined;
  ack?: Acknowledgement | undefined;
}

/** What one destination is asked to do: post the alert, edit it to say who took it, or remind that nobody has. */
export type AlertJob = { kind: 'send' | 'ack' | 'remind'; destination: AlertDestination };

/** Reminders an untaken alert gets at the most, `remindAfterMs` apart (then the alert stands as posted). */
export const MAX_REMINDERS = 3;

/** One reminder that nobody has taken an alert: the `n`th of at most `of`, `minutes` after the alert was raised. */
export interface Reminder {
  n: number;
  of: number;
  minutes: number;
}

/**
 * Posts alerts to one destination. Throws when the destination did not accept the request (a
 * 5xx, a timeout, a refused token): the worker retries with backoff. Never logs the alert's text.
 */
export interface AlertNotifier {
  readonly destination: AlertDestination;
  /** Posts the alert (with an "I'm on it" button where the platform has them); returns where it is, to edit later. */
  send(record: AlertRecord): Promise<SentRef | undefined>;
  /** Edits the posted alert to say who took it (webhooks: posts an `acknowledged` event). */
  acknowledged(record: AlertRecord, sent: SentRef | undefined, ack: Acknowledgement): Promise<void>;
  /**
   * Says again that nobody has taken the alert (`reminderLine`): in Slack and Discord a reply to
   * the posted alert (`sent`; a new message in the target's channel when it was never posted)
   * that notifies whoever is present in the channel; webhooks: a `safety_alert_reminder` event.
   */
  remind(record: AlertRecord, sent: SentRef | undefined, reminder: Reminder): Promise<void>;
}

/** Resolves a link to the person's conversation, per the person's platform; undefined when it has none. */
export type ConversationLink = (alert: SafetyAlert) => Promise<string | undefined>;

/**
 * An alert's facts as plain fields, without the person's words: what a webhook body and the
 * operator CLI show (`tenant` and `link` null when absent, so the shape never varies).
 */
export function alertFacts(r: AlertRecord) {
  const a = r.alert;
  return { episode: a.episode, kind: a.kind, platform: a.platform, tenant: a.tenant ?? null, session: a.sessionId, person: a.userId, at: a.at, link: r.link ?? null };
}

/** Oldest first, by when the protocol fired (then by episode, for a stable order). */
export function oldestFirst(a: AlertRecord, b: AlertRecord): number {
  return a.alert.at.localeCompare(b.alert.at) || a.alert.episode.localeCompare(b.alert.episode);
}

/**
 * An alert as the person's own data export shows it (`npm run data -- export`): what happened,
 * when, the included text if any, where it went and whether someone took it. Not the responders'
 * destinations (channel ids, webhook URLs: the organisation's setup) nor who took it (a
 * colleague's identity: the organisation's record of its duty of care).
 */
export function alertForExport(r: AlertRecord) {
  const a = r.alert;
  return {
    episode: a.episode,
    kind: a.kind,
    platform: a.platform,
    tenant: a.tenant ?? null,
    session: a.sessionId,
    at: a.at,
    ...(a.text !== undefined ? { text: a.text } : {}),
    sentTo: Object.keys(r.sent),
    failed: r.failed,
    acknowledgedAt: r.ack?.at ?? null,
  };
}

/** The button's action id (Slack) and custom id prefix (Discord: `safety_ack:<episode>`). */
export const ACK_ACTION = 'safety_ack';

const EPISODE = /^ep_[0-9a-f]{16}$/;
/** True for a well-formed episode id (a forged button value or CLI argument is refused before Redis). */
export function isEpisodeId(s: unknown): s is string {
  return typeof s === 'string' && EPISODE.test(s);
}

const KIND_WORDS: Record<AlertKind, string> = {
  crisis: 'crisis statement',
  self_harm: 'self-harm statement',
  confirmed: 'check-in answered yes',
  requested: 'asked to talk to a person',
  test: 'test (npm run safety -- test): nobody is in danger',
};

/**
 * The alert's lines as plain text, the same on every destination: what happened, where, when,
 * and the link; never the person's words unless the tenant included them.
 */
export function alertLines(r: AlertRecord): { title: string; lines: string[] } {
  const a = r.alert;
  const title = a.kind === 'test' ? 'Test safety alert: nobody is in danger' : a.kind === 'requested' ? 'A person asked to talk to a human' : 'The crisis protocol fired';
  const lines = [
    `Kind: ${KIND_WORDS[a.kind]}`,
    `Platform: ${a.platform}${a.tenant ? ` · tenant ${a.tenant}` : ''}`,
    `Person: ${a.userId} · session ${a.sessionId}`,
    `When: ${a.at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC').replace(/Z$/, ' UTC')}`,
    `Episode: ${a.episode}`,
    ...(r.link ? [`Conversation: ${r.link}`] : []),
    ...(a.text !== undefined ? [`Message (this tenant includes text): ${a.text}`] : []),
  ];
  return { title, lines };
}

/** A reminder's words, the same on every destination (no text of the person's: the alert above it has what it has). */
export function reminderLine(r: AlertRecord, rem: Reminder): string {
  const what = r.alert.kind === 'requested' ? 'request for a person' : 'safety alert';
  return `Not taken yet: this ${what} was raised ${rem.minutes} min ago (${r.alert.episode}, reminder ${rem.n} of ${rem.of}). Press "I'm on it" on the alert if you are reaching out.`;
}

/** The line an alert is edited to once taken. */
export function takenLine(ack: Acknowledgement): string {
  return `Taken by ${ack.by} at ${ack.at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC').replace(/Z$/, ' UTC')}.`;
}
