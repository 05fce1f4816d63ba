/**
 * What `npm run safety` prints about alerts: never the person's message text, even when the
 * tenant included it in the alert (an operator's terminal, scrollback and pasted output are
 * not where a person's words belong; the responders' channel is). Nor the webhook URL, which
 * can carry a token: only whether there is one.
 */
import { alertFacts, destinationsOf, type AlertDestination, type AlertRecord } from '../../src/safety/alerts/alert.js';

/** One `list --json` line. */
export interface AlertRow {
  episode: string;
  kind: string;
  platform: string;
  tenant: string | null;
  at: string;
  sent: AlertDestination[];
  failed: AlertDestination[];
  taken_by: string | null;
  taken_at: string | null;
}

export function alertRow(r: AlertRecord): AlertRow {
  const a = r.alert;
  return {
    episode: a.episode,
    kind: a.kind,
    platform: a.platform,
    tenant: a.tenant ?? null,
    at: a.at,
    sent: Object.keys(r.sent) as AlertDestination[],
    failed: [...r.failed],
    taken_by: r.ack?.by ?? null,
    taken_at: r.ack?.at ?? null,
  };
}

/** `show`: the whole record but the text (and the webhook URL). */
export function alertView(r: AlertRecord): Record<string, unknown> {
  const destinations = destinationsOf(r.target);
  return {
    ...alertFacts(r),
    target: {
      team: r.target.team,
      slack_channel: r.target.slackChannel ?? null,
      discord_channel: r.target.discordChannel ?? null,
      webhook: Boolean(r.target.webhookUrl),
      include_text: r.target.includeText,
      remind_after_minutes: (r.target.remindAfterMs ?? 0) / 60_000,
    },
    destinations,
    sent: r.sent,
    failed: r.failed,
    pending: destinations.filter((d) => !(d in r.sent) && !r.failed.includes(d)),
    reminded: r.reminded ?? {},
    taken_by: r.ack?.by ?? null,
    taken_at: r.ack?.at ?? null,
  };
}

const utc = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
// Ids and names come from platforms: a control character is shown as "?" so it cannot move the cursor.
const clean = (v: string) => v.replace(/[\u0000-\u001f\u007f]/g, '?');
const list = (ds: readonly string[]) => (ds.length ? ds.join(',') : '-');

/** The `list` table: aligned columns, newest first. */
export function alertTable(records: readonly AlertRecord[]): string {
  const table = [
    ['episode', 'kind', 'platform', 'tenant', 'at (UTC)', 'sent', 'failed', 'taken by'],
    ...records.map(alertRow).map((r) => [r.episode, r.kind, r.platform, r.tenant ?? '-', utc(r.at), list(r.sent), list(r.failed), r.taken_by ? `${r.taken_by} at ${utc(r.taken_at ?? '')}` : '-'].map(clean)),
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  return table.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n') + '\n';
}
