/**
 * The worker role: answers queued messages from the shared Redis queue and posts
 * replies through each platform's outlet (its own Web API / REST clients, so it
 * runs with or without a receiver in the same process).
 */
import type { Logger } from 'pino';
import { QueueWorker, watchRedisErrors, type EngineSetup, type Outlets, type RedisClient, type RedisTurnQueue, type Settings } from '../src/index.js';
import { createDiscordOutlet } from './discord/outlet.js';
import { createSlackOutlet } from './slack/slack-app.js';
import { startCheckinWorker } from './checkins.js';

export async function startWorker(settings: Settings, setup: EngineSetup, queue: RedisTurnQueue, logger: Logger) {
  const outlets: Outlets = {};
  const closers: Array<() => void> = [];
  if (settings.SLACK_BOT_TOKEN) {
    const slack = createSlackOutlet({ botToken: settings.SLACK_BOT_TOKEN, apiUrl: settings.SLACK_API_URL }, { engine: setup.engine, logger, marks: setup.marks });
    outlets.slack = slack.outlet;
    closers.push(slack.stop);
  }
  if (settings.DISCORD_BOT_TOKEN) outlets.discord = createDiscordOutlet({ token: settings.DISCORD_BOT_TOKEN, apiUrl: settings.DISCORD_API_URL }, logger);

  // Blocking reads get a connection of their own (the union type hides that both kinds have duplicate()).
  const reader = (queue.redis as { duplicate(): RedisClient }).duplicate();
  watchRedisErrors(reader, logger, 'queue-reader');
  const worker = new QueueWorker({
    queue,
    reader,
    runner: { engine: setup.engine, outlets, logger, limits: setup.limits, limitedReply: setup.limitedReply, onReplied: setup.metrics.replied, orderWindowMs: settings.QUEUE_ORDER_WINDOW_MS },
    logger,
    concurrency: settings.QUEUE_CONCURRENCY,
    claimIdleMs: settings.QUEUE_CLAIM_IDLE_MS,
    ownerTtlMs: settings.QUEUE_OWNER_TTL_MS,
  });
  await worker.start();
  // Check-ins people asked for go out through the same outlets as replies (docs/checkins.md).
  const checkins = startCheckinWorker(setup, outlets, logger, { leaseMs: settings.CHECKIN_LEASE_MS, pollMs: settings.CHECKIN_POLL_MS });
  return {
    consumer: worker.consumer,
    /** Takeovers and hand-backs so far (metrics). */
    stats: worker.stats,
    /** Finishes running turns (up to timeoutMs), hands back the rest, closes the outlets. */
    async stop(timeoutMs: number) {
      await checkins?.stop();
      const { unfinished } = await worker.stop(timeoutMs);
      if (unfinished > 0) logger.warn({ unfinished }, 'turns still running at shutdown were handed to another instance');
      for (const close of closers) close();
    },
  };
}
