/**
 * `npm run safety -- test`: a drill of an alert route, end to end. It raises an alert of kind
 * `test` (nobody in danger; never reminded) in the shared queue and watches the running workers
 * deliver it, printing each destination as it lands. Nothing is sent from here: the drill goes
 * through the same workers, tokens and channels a real alert would, so a destination that no
 * worker reaches (a missing token, the bot not in the channel, a refusing webhook) shows up as
 * not delivered, which is what a drill is for.
 */
import { randomBytes } from 'node:crypto';
import type { AlertDestination, AlertQueue, AlertRecord, AlertTarget } from '../../src/index.js';
import { destinationsOf } from '../../src/index.js';

export interface DrillReport {
  episode: string;
  destinations: AlertDestination[];
  delivered: AlertDestination[];
  failed: AlertDestination[];
  pending: AlertDestination[];
}

export interface DrillOptions {
  tenant?: string | undefined;
  /** Who runs it (shown in the alert as the person: `cli:<name>`). */
  operator: string;
  /** How long to watch for the workers. */
  waitMs: number;
  /** How often to look (default 250 ms). */
  everyMs?: number;
  /** A line of progress (stdout). */
  say: (line: string) => void;
}

function landed(r: AlertRecord, d: AlertDestination): string {
  const sent = r.sent[d];
  return sent && sent !== 'posted' ? `${d}: posted in ${sent.channel}` : `${d}: accepted`;
}

export async function drill(queue: AlertQueue, target: AlertTarget, o: DrillOptions): Promise<DrillReport> {
  const episode = `ep_${randomBytes(8).toString('hex')}`;
  const destinations = destinationsOf(target);
  // A drill is not chased with @here reminders: its target says none, whatever the tenant's says.
  await queue.raise({ episode, kind: 'test', platform: 'test', ...(o.tenant ? { tenant: o.tenant } : {}), sessionId: 'test', userId: `cli:${o.operator}`, at: new Date().toISOString() }, { ...target, remindAfterMs: 0 });
  const where = destinations.map((d) => (d === 'slack' ? `slack ${target.slackChannel}` : d === 'discord' ? `discord ${target.discordChannel}` : 'webhook'));
  o.say(`test alert ${episode} queued for ${where.join(', ')}; waiting up to ${Math.round(o.waitMs / 1000)} s for the workers to deliver it`);
  const told = new Set<AlertDestination>();
  const deadline = Date.now() + o.waitMs;
  let record: AlertRecord | null = null;
  for (;;) {
    record = await queue.get(episode);
    for (const d of destinations) {
      if (told.has(d) || !record) continue;
      if (record.sent[d] !== undefined) o.say(`  ${landed(record, d)}`);
      else if (record.failed.includes(d)) o.say(`  ${d}: given up after every try (the worker's log names the error)`);
      else continue;
      told.add(d);
    }
    if (told.size === destinations.length || Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, Math.min(o.everyMs ?? 250, Math.max(0, deadline - Date.now()))));
  }
  const delivered = destinations.filter((d) => record?.sent[d] !== undefined);
  const failed = destinations.filter((d) => record?.failed.includes(d));
  const pending = destinations.filter((d) => !delivered.includes(d) && !failed.includes(d));
  for (const d of pending) o.say(`  ${d}: not delivered within ${Math.round(o.waitMs / 1000)} s (${WHY[d]}); it stays queued and may still arrive`);
  return { episode, destinations, delivered, failed, pending };
}

const WHY: Record<AlertDestination, string> = {
  slack: 'is a worker running with SLACK_BOT_TOKEN, and is the bot a member of the channel?',
  discord: 'is a worker running with DISCORD_BOT_TOKEN, and may the bot send messages in the channel?',
  webhook: 'is a worker running, and does the receiver answer 2xx? The worker log says why a try failed',
};
