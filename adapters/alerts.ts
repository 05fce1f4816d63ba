/**
 * The safety-alert worker of this process: a notifier for each destination it has the means
 * to reach (the Slack and Discord bot tokens, the webhook's secret), links to conversations
 * on the platforms it knows, and its outcomes counted and audited. Jobs for a destination
 * this process cannot reach wait for a worker that can.
 */
import type { Logger } from 'pino';
import { webApi } from '@slack/bolt';
import { AlertWorker, WebhookNotifier, type AlertNotifier, type ConversationLink, type EngineSetup, type Settings } from '../src/index.js';
import { createDiscordAlertNotifier, discordConversationLink } from './discord/alert-notifier.js';
import { SlackAlertNotifier, slackConversationLink } from './slack/alert-notifier.js';
import { webClientOptions } from './slack/slack-app.js';

/** Tests: faster retries and polls than the defaults (500 ms doubling; 500 ms). */
export interface AlertWorkerTuning {
  pollMs?: number;
  backoffMs?: (tries: number) => number;
}

export function startAlertWorker(settings: Settings, setup: EngineSetup, logger: Logger, tuning: AlertWorkerTuning = {}): AlertWorker | undefined {
  const { routing, queue, audit } = setup.alerts;
  const notifiers: AlertNotifier[] = [];
  const links: Record<string, ConversationLink> = {};
  if (settings.SLACK_BOT_TOKEN) {
    const client = new webApi.WebClient(settings.SLACK_BOT_TOKEN, webClientOptions(settings.SLACK_API_URL));
    notifiers.push(new SlackAlertNotifier(client));
    links.slack = slackConversationLink(client, logger);
  }
  if (settings.DISCORD_BOT_TOKEN) {
    notifiers.push(createDiscordAlertNotifier({ token: settings.DISCORD_BOT_TOKEN, apiUrl: settings.DISCORD_API_URL }));
  }
  // A Discord message link needs no client: any worker can build it.
  links.discord = discordConversationLink;
  notifiers.push(new WebhookNotifier({ secret: settings.SAFETY_ALERT_WEBHOOK_SECRET }));
  const needed = routing.destinations;
  const missing = needed.filter((d) => !notifiers.some((n) => n.destination === d));
  if (needed.length === 0) return undefined; // alerts go nowhere: nothing to deliver
  if (missing.length > 0) logger.warn({ destinations: missing }, 'safety alerts for these destinations wait for a worker with their bot token');
  const worker = new AlertWorker({
    queue,
    notifiers: notifiers.filter((n) => needed.includes(n.destination)),
    links,
    logger,
    audit,
    onOutcome: setup.metrics.safetyAlert,
    onTaken: setup.metrics.safetyAlertTaken,
    leaseMs: settings.SAFETY_ALERT_LEASE_MS,
    ...tuning,
  });
  setup.alerts.onRaised = () => worker.nudge();
  worker.start();
  return worker;
}
