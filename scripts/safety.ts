/**
 * `npm run safety -- ack|list|show|test`: the operator's side of safety alerts (docs/safety-alerts.md). `ack`
 * takes an alert from a shell (as the "I'm on it" button does: the first taker wins, the
 * workers then edit the posted alerts to say who took it, and the audit trail records it);
 * `list` and `show` read what was raised and what each destination did. Nothing printed ever
 * carries the person's message text. `test` is a drill: an alert of kind `test` through the
 * running workers to every destination of a tenant (or the default), watched until delivered.
 *
 * Exit codes: 0 done, 2 bad arguments or settings, 3 no such episode, 4 Redis unreachable,
 * 5 already taken by someone else, 6 the test alert not delivered everywhere in time,
 * 7 no alert destination configured.
 */
import { Command, CommanderError } from 'commander';
import { resolve } from 'node:path';
import { AlertRouting, ConfigError, StoreUnavailableError, alertDefaultsOf, createRedisStore, formatProblems, isEpisodeId, loadEngineConfig, settingsOrReport, usesRedis, type RedisSessionStore, type Settings } from '../src/index.js';
import { RedisAlertQueue } from '../src/safety/alerts/redis-alert-queue.js';
import { useDotEnv } from '../adapters/common/dotenv.js';
import { alertRow, alertTable, alertView } from './safety/views.js';
import { drill } from './safety/drill.js';

const EXIT_CODES =
  'Exit codes: 0 done, 2 bad arguments or settings (a malformed episode id, a missing or blank --operator, invalid settings, no REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS set), 3 no such episode (alerts are kept 30 days), 4 Redis unreachable, 5 already taken by someone else, 6 the test alert was not delivered to every destination within --wait, 7 no alert destination is configured (the default: a --tenant names one of its own or is refused).';

const EXIT = { badArguments: 2, noSuchEpisode: 3, unreachable: 4, taken: 5, notDelivered: 6, noDestination: 7 } as const;

/** Operator names go into the edited alerts ("Taken by cli:<name>") and the audit trail: plain words only (no mrkdwn, no mentions). */
const OPERATOR = /^[\p{L}\p{N}][\p{L}\p{N} ._@'-]{0,63}$/u;

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function checkEpisode(episode: string): string {
  if (!isEpisodeId(episode)) fail(`an episode id is "ep_" and 16 hex digits, as the alert shows it, e.g. ep_0123456789abcdef (got ${JSON.stringify(episode)})`, EXIT.badArguments);
  return episode;
}

function checkOperator(name: string | undefined): string {
  const n = (name ?? '').trim();
  if (!n) fail('--operator names who takes the alert, e.g. --operator dana (it is shown to the other responders)', EXIT.badArguments);
  if (!OPERATOR.test(n)) fail(`--operator takes a plain name of up to 64 letters, digits, spaces and . _ @ ' - (got ${JSON.stringify(n)})`, EXIT.badArguments);
  return n;
}

/** Redis is down or went away mid-command (not a bug in a command: those are ReplyErrors). */
function unreachable(err: unknown): boolean {
  if (err instanceof StoreUnavailableError) return true;
  const e = err as { name?: string; code?: string; message?: string };
  if (e.name === 'ReplyError') return false;
  return Boolean(e.code && /^E[A-Z]+$/.test(e.code)) || /Connection is closed|max retries|Command timed out|Stream isn't writeable/i.test(e.message ?? '');
}

async function withQueue(fn: (queue: RedisAlertQueue, store: RedisSessionStore, settings: Settings) => Promise<void>): Promise<void> {
  useDotEnv('safety');
  const settings = settingsOrReport(process.env, (m) => process.stderr.write(m));
  if (!settings) process.exit(EXIT.badArguments);
  if (!usesRedis(settings)) fail('No REDIS_URL (or REDIS_CLUSTER_NODES / REDIS_SENTINELS) is set: alerts are kept in Redis, and there is none to read.', EXIT.badArguments);
  let store: RedisSessionStore;
  try {
    store = await createRedisStore(settings);
  } catch (err) {
    if (err instanceof StoreUnavailableError) fail(err.message, EXIT.unreachable);
    throw err;
  }
  // No cipher: the CLI never shows an included text, so it has no reason to open one.
  const queue = new RedisAlertQueue({ client: store.client, prefix: store.keys.prefix, audit: (entry) => store.audit(entry) });
  try {
    await fn(queue, store, settings);
  } catch (err) {
    if (!unreachable(err)) throw err;
    process.stderr.write(`Redis unavailable: ${(err as { code?: string }).code ?? (err as Error).message}\n`);
    process.exitCode = EXIT.unreachable;
  } finally {
    await store.close().catch(() => undefined);
  }
}

const program = new Command()
  .name('safety')
  .description('Take a safety alert from a shell, and list or show the alerts raised (never the message text).')
  .addHelpText('after', `\nReads REDIS_URL (or REDIS_CLUSTER_NODES / REDIS_SENTINELS) and REDIS_KEY_PREFIX from the environment or .env.\n${EXIT_CODES}`)
  // Set before the subcommands, which inherit it: a usage error exits 2 like every bad argument.
  .exitOverride();

program
  .command('ack')
  .description('take an alert as cli:<name>: the first taker wins; the posted alerts are then edited to say who took it')
  .argument('<episode>', 'the episode id, as the alert shows it (ep_ and 16 hex digits)')
  .requiredOption('--operator <name>', 'who takes it (shown to the other responders and recorded in the audit trail)')
  .addHelpText('after', '\nPrints "acknowledged <episode> as cli:<name>" (exit 0), or "already taken by <by> at <at>" (exit 5; exit 0 when it was you).')
  .action((episode: string, opts: { operator?: string }) => {
    const ep = checkEpisode(episode);
    const by = `cli:${checkOperator(opts.operator)}`;
    return withQueue(async (queue) => {
      const out = await queue.acknowledge(ep, by);
      if (out.outcome === 'unknown') {
        process.stderr.write(`no such episode ${ep} (alerts are kept 30 days)\n`);
        process.exitCode = EXIT.noSuchEpisode;
      } else if (out.outcome === 'acknowledged') {
        process.stdout.write(`acknowledged ${ep} as ${by}\n`);
      } else if (out.ack?.by === by) {
        process.stdout.write(`already taken by ${out.ack.by} at ${out.ack.at} (you)\n`);
      } else {
        process.stderr.write(`already taken by ${out.ack?.by ?? 'someone'} at ${out.ack?.at ?? 'an unknown time'}\n`);
        process.exitCode = EXIT.taken;
      }
    });
  });

program
  .command('list')
  .description('the newest alerts, newest first, as a table (no message text)')
  .option('--count <n>', 'how many (1 to 1000: the newest 1,000 are indexed)', '20')
  .option('--json', 'one JSON object per line instead of the table')
  .addHelpText(
    'after',
    '\nColumns: episode, kind, platform, tenant, at (UTC), sent (destinations that took it), failed (destinations that gave up), taken by.\nJSON lines: {episode, kind, platform, tenant, at, sent, failed, taken_by, taken_at}.',
  )
  .action((opts: { count: string; json?: boolean }) => {
    const count = Number(opts.count);
    if (!Number.isInteger(count) || count < 1 || count > 1000) fail(`--count must be a whole number from 1 to 1000 (got ${JSON.stringify(opts.count)})`, EXIT.badArguments);
    return withQueue(async (queue) => {
      const records = await queue.recent(count);
      if (opts.json) for (const r of records) process.stdout.write(`${JSON.stringify(alertRow(r))}\n`);
      else if (records.length === 0) process.stderr.write('no alerts\n');
      else process.stdout.write(alertTable(records));
    });
  });

program
  .command('show')
  .description("one alert's record as JSON: the alert, where it went, what each destination did, who took it (no message text)")
  .argument('<episode>', 'the episode id (ep_ and 16 hex digits)')
  .action((episode: string) => {
    const ep = checkEpisode(episode);
    return withQueue(async (queue) => {
      const record = await queue.get(ep);
      if (!record) {
        process.stderr.write(`no such episode ${ep} (alerts are kept 30 days)\n`);
        process.exitCode = EXIT.noSuchEpisode;
        return;
      }
      process.stdout.write(`${JSON.stringify(alertView(record), null, 2)}\n`);
    });
  });

program
  .command('test')
  .description('a drill: send a test alert (kind test, nobody in danger) through the running workers to every destination of a tenant, or of the default, and watch it land')
  .option('--tenant <name>', 'a tenant of tenants.json (default: the SAFETY_ALERT_* default)')
  .option('--operator <name>', 'who runs the drill (shown in the alert and the audit trail)')
  .option('--wait <seconds>', 'how long to watch for the workers (1 to 900)', '60')
  .addHelpText('after', '\nThe alert goes through the shared queue: a worker of the bot (role worker or all) must be running, with the token of each destination. It says "Test safety alert: nobody is in danger", has the I\'m on it button, and is never reminded.\nPrints each destination as it lands; exit 0 when all took it, 6 when one did not within --wait, 7 when nothing is configured.')
  .action((opts: { tenant?: string; operator?: string; wait: string }) => {
    const by = checkOperator(opts.operator);
    const wait = Number(opts.wait);
    if (!Number.isInteger(wait) || wait < 1 || wait > 900) fail(`--wait must be a whole number of seconds from 1 to 900 (got ${JSON.stringify(opts.wait)})`, EXIT.badArguments);
    return withQueue(async (queue, store, settings) => {
      let routing: AlertRouting;
      try {
        routing = new AlertRouting(loadEngineConfig(resolve(settings.CONFIG_DIR)).tenants, alertDefaultsOf(settings));
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        fail(`Invalid config:\n${formatProblems(err.problems)}`, EXIT.badArguments);
      }
      if (opts.tenant !== undefined && !routing.hasOwn(opts.tenant)) {
        fail(`no tenant ${JSON.stringify(opts.tenant)} with a safety_alert in tenants.json; leave out --tenant to test the default (SAFETY_ALERT_*)`, EXIT.badArguments);
      }
      const target = routing.target(opts.tenant);
      if (!target) fail('no safety alert destination is configured: set SAFETY_ALERT_SLACK_CHANNEL, SAFETY_ALERT_DISCORD_CHANNEL or SAFETY_ALERT_WEBHOOK_URL, or a tenant\'s safety_alert (docs/safety-alerts.md)', EXIT.noDestination);
      const report = await drill(queue, target, { tenant: opts.tenant, operator: by, waitMs: wait * 1000, say: (line) => process.stdout.write(`${line}\n`) });
      await store.audit({ actor: `cli:${by}`, action: 'safety_alert_test', target: report.episode, tenant: opts.tenant ?? '', delivered: report.delivered.join(','), not_delivered: [...report.failed, ...report.pending].join(',') }).catch(() => undefined);
      if (report.delivered.length === report.destinations.length) process.stdout.write(`delivered to ${report.delivered.join(', ')}; press I'm on it on the alert to try the acknowledgement too\n`);
      else process.exitCode = EXIT.notDelivered;
    });
  });

try {
  await program.parseAsync();
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : EXIT.badArguments); // commander printed the message
  throw err;
}
