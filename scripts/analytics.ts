/**
 * `npm run analytics -- [options]`: per-tenant and per-experiment counts from
 * Redis (sessions, turns, completions, crisis referrals, rate-limited messages)
 * and the funnel of substates reached, as a table, JSON or an SVG chart.
 * The counters hold names and numbers only, never message text.
 *
 * Exit codes: 0 done, 1 a failure while reading, 2 usage, invalid settings or no
 * Redis configured, 4 Redis cannot be reached.
 */
import { Command, CommanderError } from 'commander';
import { writeFileSync } from 'node:fs';
import { connectRedis, createRedisClient, loadEngineConfig, settingsOrReport, usesRedis, type RedisClient } from '../src/index.js';
import { describeRedis } from '../src/redis/connection.js';
import { formatBucket, bucketOf, type Granularity } from '../src/analytics/keys.js';
import { listScopes, readCounts, type CountsRow, type ReadScope } from '../src/analytics/reader.js';
import { COUNT_FIELDS } from '../src/analytics/analytics.js';
import { addCounts, countCells, funnelOrder, renderFunnel, renderTable, seriesOf, totalsBy, type NavigationLike } from '../src/analytics/report.js';
import { funnelSvg } from '../src/analytics/svg.js';
import { useDotEnv } from '../adapters/common/dotenv.js';

interface Options {
  tenant?: string;
  experiment?: string;
  days?: string;
  hours?: string;
  json?: boolean;
  chart?: string;
}

/** Hour keys live 8 days by default: asking for more hours only reads empty keys. */
const MAX_HOURS = 24 * 31;
const MAX_DAYS = 800;

function fail(message: string, code = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function whole(name: string, value: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) fail(`--${name} must be a whole number from 1 to ${max} (got ${JSON.stringify(value)})`, 2);
  return n;
}

/** The navigation for the funnel's order; without it (a broken config), substates go most reached first. */
function navigation(configDir: string): NavigationLike | undefined {
  try {
    return loadEngineConfig(configDir).navigation;
  } catch (err) {
    process.stderr.write(`note: cannot load the config from ${configDir} (${(err as { code?: string }).code ?? 'error'}); the funnel is ordered by count\n`);
    return undefined;
  }
}

async function connect(): Promise<{ client: RedisClient; prefix: string; configDir: string }> {
  useDotEnv('analytics');
  const settings = settingsOrReport(process.env, (m) => process.stderr.write(m));
  if (!settings) process.exit(2);
  if (!usesRedis(settings)) fail('No REDIS_URL (or REDIS_CLUSTER_NODES / REDIS_SENTINELS) is set: analytics live in Redis.', 2);
  const conn = { url: settings.REDIS_URL, clusterNodes: settings.REDIS_CLUSTER_NODES, sentinels: settings.REDIS_SENTINELS, sentinelName: settings.REDIS_SENTINEL_NAME, commandTimeoutMs: settings.REDIS_COMMAND_TIMEOUT_MS };
  const client = createRedisClient(conn);
  let lastError: { code?: string } | undefined;
  client.on('error', (err: { code?: string }) => (lastError = err));
  try {
    await connectRedis(client);
  } catch (err) {
    client.disconnect();
    fail(`Cannot reach ${describeRedis(conn)}: ${lastError?.code ?? (err as Error).message}`, 4);
  }
  return { client, prefix: settings.REDIS_KEY_PREFIX, configDir: settings.CONFIG_DIR };
}

async function list(client: RedisClient, prefix: string, json: boolean): Promise<void> {
  const scopes = await listScopes(client, prefix);
  if (json) return void process.stdout.write(`${JSON.stringify(scopes, null, 2)}\n`);
  const exps = Object.entries(scopes.experiments);
  if (scopes.tenants.length === 0 && exps.length === 0) return void process.stdout.write('No analytics recorded yet.\n');
  process.stdout.write(`Tenants (--tenant):\n${scopes.tenants.map((t) => `  ${t}\n`).join('') || '  (none)\n'}`);
  process.stdout.write(`Experiments (--experiment), with arms:\n${exps.map(([e, arms]) => `  ${e}: ${arms.join(', ')}\n`).join('') || '  (none)\n'}`);
}

interface Range {
  granularity: Granularity;
  span: number;
}

async function report(client: RedisClient, prefix: string, configDir: string, scope: ReadScope, o: Options, { granularity, span }: Range): Promise<void> {
  const to = new Date();
  const from = new Date(to.getTime() - (span - 1) * (granularity === 'hour' ? 3_600_000 : 86_400_000));
  const rows = await readCounts(client, prefix, { scope, from, to, granularity });
  const name = 'tenant' in scope ? scope.tenant : scope.experiment;
  // A tenant's funnel is one series (the tenant); an experiment's has one per arm.
  const totals = 'tenant' in scope ? totalsBy(rows, () => name) : totalsBy(rows, (r: CountsRow) => r.arm ?? '');
  const series = seriesOf(totals);
  const substates = funnelOrder(navigation(configDir), series);
  const range = `${formatBucket(bucketOf(from, granularity))} to ${formatBucket(bucketOf(to, granularity))} UTC`;
  const title = `${'tenant' in scope ? 'Tenant' : 'Experiment'} ${name}, ${range}`;

  if (o.chart) {
    writeFileSync(o.chart, funnelSvg({ title: `Funnel: ${title}`, substates, series }));
    process.stderr.write(`wrote ${o.chart}\n`);
  }
  if (o.json) {
    const out = { scope, granularity, from: bucketOf(from, granularity), to: bucketOf(to, granularity), rows, totals: Object.fromEntries(totals), funnel: { substates, series } };
    return void process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  }
  const lines: string[] = [title, ''];
  if ('tenant' in scope) {
    const byBucket = new Map(rows.map((r) => [r.bucket, r.counts]));
    const all: Record<string, number> = {};
    const body = [...byBucket].map(([bucket, counts]) => (addCounts(all, counts), [formatBucket(bucket), ...countCells(counts)]));
    lines.push(renderTable([granularity, ...COUNT_FIELDS], [...body, ['total', ...countCells(all)]]));
  } else if (rows.length === 0) {
    lines.push('No counts in this range.');
  } else {
    lines.push(renderTable(['arm', ...COUNT_FIELDS], [...totals].map(([arm, counts]) => [arm, ...countCells(counts)])));
  }
  lines.push('', 'Funnel (substates reached, share of sessions):', renderFunnel(substates, series));
  process.stdout.write(`${lines.join('\n')}\n`);
}

const program = new Command()
  .name('analytics')
  .description('Print per-tenant and per-experiment counts (no message text is ever recorded). Without --tenant or --experiment: list what exists.')
  .option('--tenant <name>', 'one tenant (`_none`: turns without a tenant)')
  .option('--experiment <name>', 'one experiment: totals and funnel per arm')
  .option('--days <n>', 'day buckets: today and the n-1 days before, UTC (default 7)')
  .option('--hours <n>', 'hour buckets instead: this hour and the n-1 before (hour counts are kept 8 days by default)')
  .option('--json', 'print JSON instead of tables')
  .option('--chart <file.svg>', 'also write the funnel per arm as an SVG chart')
  .addHelpText('after', '\nReads REDIS_URL (or REDIS_CLUSTER_NODES / REDIS_SENTINELS) and REDIS_KEY_PREFIX.\nExit codes: 0 done, 1 a failure while reading, 2 usage, invalid settings or no Redis configured, 4 Redis cannot be reached.')
  .exitOverride()
  .action(async (o: Options) => {
    if (o.tenant !== undefined && o.experiment !== undefined) fail('choose one of --tenant and --experiment', 2);
    if (o.days !== undefined && o.hours !== undefined) fail('choose one of --days and --hours', 2);
    const scope: ReadScope | undefined = o.tenant !== undefined ? { tenant: o.tenant } : o.experiment !== undefined ? { experiment: o.experiment } : undefined;
    if (!scope && o.chart) fail('--chart needs --tenant or --experiment', 2);
    // Arguments are checked before connecting, so a typo never waits for Redis.
    const range: Range = o.hours !== undefined ? { granularity: 'hour', span: whole('hours', o.hours, MAX_HOURS) } : { granularity: 'day', span: whole('days', o.days ?? '7', MAX_DAYS) };
    const { client, prefix, configDir } = await connect();
    try {
      if (scope) await report(client, prefix, configDir, scope, o, range);
      else await list(client, prefix, Boolean(o.json));
    } catch (err) {
      process.stderr.write(`analytics failed: ${(err as { code?: string }).code ?? (err as Error).message}\n`);
      process.exitCode = 1;
    } finally {
      client.disconnect();
    }
  });

try {
  await program.parseAsync();
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2); // commander printed the message
  throw err;
}
