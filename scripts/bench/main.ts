/**
 * `npm run bench`: speed and quality figures for docs/performance.md, in three parts
 * (run one with --only): core (classifier, crisis check, in-memory turns,
 * crisis detection quality), retrieval (corpus recall and latency, FAISS on
 * synthetic vectors at 1k, 10k and 100k), redis (the session store), slack
 * (ack latency of the real Bolt app under load), edge (the same ack latency
 * alone and while a flood of oversized requests is refused), queue (receive-to-reply
 * through the durable queue against the direct path), llm (the LLM responder's
 * own cost per turn against a local server that answers at once).
 *
 * Exit codes: 0 measured, 1 a measurement failed, 2 bad arguments, 4 Redis unreachable
 * (checked before measuring when a part needs it: overrides, redis, queue).
 */
import { Command, CommanderError, Option } from 'commander';
import { join, resolve } from 'node:path';
import { Engine, FaissRetriever, LocalEmbedder, MemorySessionStore, loadEngineConfig, loadExchanges, silentLogger } from '../../src/index.js';
import { benchCore } from './core.js';
import { benchEdge } from './edge.js';
import { benchLlm } from './llm.js';
import { benchOverrides } from './overrides.js';
import { benchQueue } from './queue.js';
import { benchRedis } from './redis.js';
import { benchSlackAck } from './slack.js';
import { benchCorpusRetrieval, measureIndex, type IndexFigures } from './retrieval.js';
import { REDIS_PARTS, redisUnreachable } from './preflight.js';
import { useDotEnv } from '../../adapters/common/dotenv.js';

useDotEnv('bench'); // before the options read REDIS_URL

const PARTS = ['core', 'retrieval', 'redis', 'slack', 'edge', 'queue', 'llm', 'overrides'] as const;

const opts = new Command()
  .name('bench')
  .description('Measure throughput, latency and quality figures (see docs/performance.md for the latest).')
  .option('--seconds <n>', 'time per throughput measurement', '3')
  .option('--json', 'print the figures as JSON')
  .option('--skip-large', 'skip the 100k x 1,536 index measurements (they take minutes)')
  .addOption(new Option('--only <part>', 'run one part').choices(PARTS))
  .option('--redis-url <url>', 'Redis for the overrides, redis and queue parts (default: REDIS_URL, else redis://127.0.0.1:6379)', process.env.REDIS_URL || 'redis://127.0.0.1:6379')
  .addHelpText(
    'after',
    `
The overrides, redis and queue parts need Redis; it is checked before anything is measured.
Exit codes: 0 measured, 1 a measurement failed, 2 bad arguments, 4 Redis unreachable.`,
  )
  // Usage errors exit 2 (commander's own code is 1, which here means a measurement failed).
  .exitOverride((err: CommanderError) => process.exit(err.exitCode === 0 ? 0 : 2))
  .parse()
  .opts<{ seconds: string; json?: boolean; skipLarge?: boolean; only?: (typeof PARTS)[number]; redisUrl: string }>();
const seconds = Number(opts.seconds);
if (!(seconds > 0)) {
  process.stderr.write(`bench: --seconds must be a positive number (got ${JSON.stringify(opts.seconds)})\n`);
  process.exit(2);
}
const part = (name: string) => !opts.only || opts.only === name;

if (REDIS_PARTS.some(part)) {
  const why = await redisUnreachable(opts.redisUrl);
  if (why) {
    const others = PARTS.filter((p) => !(REDIS_PARTS as readonly string[]).includes(p)).join(', ');
    process.stderr.write(`bench: ${why}; start it, point --redis-url or REDIS_URL at one, or run a part without Redis (--only ${others})\n`);
    process.exit(4);
  }
}

const root = resolve(import.meta.dirname, '..', '..');
const config = loadEngineConfig(join(root, 'config'));
const exchanges = loadExchanges(join(root, 'data'));
const embedder = new LocalEmbedder(config.retrieval.local.dimension);
const retriever = FaissRetriever.load({ dataDir: join(root, 'data'), exchanges, embedder, retrieval: config.retrieval, logger: silentLogger });

const results: Record<string, unknown> = { node: process.version, date: new Date().toISOString().slice(0, 10) };
const rows: Array<[string, string]> = [['Node', process.version]];
const fmt = (n: number) => n.toLocaleString('en-US');

if (part('core')) {
  const c = await benchCore(root, config, exchanges, retriever, seconds);
  results.core = c;
  rows.push(
    ['phrases compiled', String(c.patterns)],
    ['classifications/s (200-char messages)', fmt(c.classificationsPerSec)],
    ['crisis checks/s (200-char messages)', fmt(c.crisisChecksPerSec)],
    ['crisis checks/s (200-char, release phrases read too: the safety state)', fmt(c.crisisChecksPerSecWithRelease)],
    ['crisis checks/s (200-char risk statements)', fmt(c.crisisChecksPerSecRisky)],
    ['in-memory turns/s, 1 session', fmt(c.turnsPerSec1)],
    ['in-memory turns/s, 256 sessions', fmt(c.turnsPerSec256)],
    ...Object.entries(c.crisisQuality).flatMap(([n, q]): Array<[string, string]> => [
      [`crisis ${n}: explicit caught`, q.explicit],
      [`crisis ${n}: indirect caught`, q.indirect],
      [`crisis ${n}: false alarms`, q.falseAlarms],
    ]),
  );
}

if (part('overrides')) {
  const o = await benchOverrides(config, exchanges, opts.redisUrl, seconds);
  results.overrides = o;
  rows.push(
    ['config lookup per turn, no overrides (ns)', fmt(o.lookupNsBase)],
    ['config lookup per turn, tenant + 2 experiments in force (ns)', fmt(o.lookupNsOverrides)],
    ['one Redis GET for comparison, p50 / p99 ms', `${o.redisGetP50Ms} / ${o.redisGetP99Ms}`],
  );
}

if (part('llm')) {
  const l = await benchLlm(config, retriever);
  results.llm = l;
  rows.push(
    [`turn p50 / p99 ms, offline responder (${l.turns} turns)`, `${l.offline.p50ms} / ${l.offline.p99ms}`],
    ['turn p50 / p99 ms, LLM responder, local server answering at once', `${l.llm.p50ms} / ${l.llm.p99ms}`],
    ['same, streamed (SSE, previews)', `${l.llmStreamed.p50ms} / ${l.llmStreamed.p99ms}`],
    ['prompt tokens after a 200-turn history (turns sent)', `${fmt(l.promptTokensLongHistory)} (${l.historyTurnsSent})`],
  );
}

if (part('retrieval')) {
  const r = await benchCorpusRetrieval(root, exchanges, retriever, embedder, config.retrieval.k, seconds);
  const indexes: IndexFigures[] = [measureIndex(1_000, 384, 'Flat'), measureIndex(10_000, 384, 'Flat'), measureIndex(10_000, 384, 'HNSW32,Flat', { efSearch: 32 })];
  if (!opts.skipLarge) {
    indexes.push(measureIndex(100_000, 1536, 'Flat'));
    indexes.push(measureIndex(100_000, 1536, 'HNSW32,Flat', { efSearch: 80 }));
    // A PCA pre-transform makes each distance 6x cheaper (Debian's faiss has no AVX kernels).
    indexes.push(measureIndex(100_000, 1536, 'PCA256,HNSW32,Flat', { efSearch: 128 }));
  }
  results.retrieval = { corpus: r, indexes };
  rows.push(
    ['FAISS + local embedder recall@5 (held-out)', String(r.recallAt5)],
    ['local embedder texts/s', fmt(r.embedTextsPerSec)],
    ['corpus retrieval p50 / p99 ms (embed + scoped search)', `${r.p50ms} / ${r.p99ms}`],
    ...indexes.map((x): [string, string] => [
      `${x.factory}${Object.keys(x.params).length ? ` ${JSON.stringify(x.params)}` : ''} ${fmt(x.vectors)} x ${x.dimension}: p50 / p99 ms, recall@10, build`,
      `${x.p50ms} / ${x.p99ms}, ${x.recallAt10}, ${x.buildSeconds} s (${fmt(x.addRate)} vectors/s)`,
    ]),
  );
}

if (part('redis')) {
  const r = await benchRedis(opts.redisUrl, config, retriever, seconds);
  results.redis = r;
  rows.push(
    ...r.closedLoop.map((c): [string, string] => [`Redis turns/s, ${c.sessions} session(s) (PING/s same client)`, `${fmt(c.turnsPerSec)} (${fmt(c.pingsPerSec)})`]),
    [`Redis open loop ${fmt(r.openLoop.offeredPerSec)} turns/s offered, 256 sessions: p50 / p99 ms`, `${r.openLoop.p50ms} / ${r.openLoop.p99ms} (achieved ${fmt(r.openLoop.achievedPerSec)}/s)`],
    ['Redis round trips waited on per turn / commands executed per turn (incl. inside scripts)', `${r.roundTripsPerTurn} / ${r.commandsPerTurn}`],
  );
}

if (part('slack')) {
  const engine = new Engine({ config, store: new MemorySessionStore(), retriever });
  const figures = [];
  for (const rate of [100, 300]) {
    const r = await benchSlackAck(engine, rate);
    figures.push(r);
    rows.push([`Slack ack latency at ${rate} signed events/s (open loop, ${fmt(r.requests)} events): p50 / p99 ms`, `${r.p50ms} / ${r.p99ms} (every event answered)`]);
  }
  results.slack = figures;
}

if (part('edge')) {
  const engine = new Engine({ config, store: new MemorySessionStore(), retriever });
  const e = await benchEdge(engine);
  results.edge = e;
  const flood = { unsigned: `unsigned ${(e.floodBodyBytes / 1e6).toFixed(1)} MB bodies`, oversized: `signed ${(e.floodBodyBytes / 1e6).toFixed(1)} MB bodies (half chunked)` };
  for (const p of e.phases) {
    const during = p.phase === 'alone' ? 'alone' : `during a flood of ${flood[p.phase]}, ${e.floodConnections} connections`;
    const failed = Object.entries(p.failed).map(([k, v]) => `${fmt(v)} ${k}`).join(', ');
    rows.push([`Slack edge: DM ack at ${e.ratePerSec}/s ${during} (${fmt(p.events)} events): p50 / p95 / p99 / max ms`, `${p.p50ms} / ${p.p95ms} / ${p.p99ms} / ${p.maxMs} (${failed ? `not acked: ${failed}` : 'every event acked 200'}; loop delay p99 ${p.loopDelayP99ms} ms)`]);
    if (p.flood) {
      const ends = Object.entries(p.flood.outcomes).sort(([, a], [, b]) => b - a).map(([k, v]) => `${fmt(v)} ${k}`).join(', ');
      const refused = Object.entries(p.refusals).map(([k, v]) => `${fmt(v)} ${k}`).join(', ');
      rows.push(
        [`  flood requests in ${p.flood.seconds.toFixed(1)} s (/s, MB/s into loopback) and how they ended (status, then the connection)`, `${fmt(p.flood.requests)} (${fmt(p.flood.perSec)}/s, ${fmt(p.flood.mbPerSec)} MB/s): ${ends}; ${p.flood.cut} cut at the end`],
        ['  refusals counted by the edge', refused || 'none'],
      );
    }
    rows.push([`  bot process RSS before / peak during (MB)`, `${p.rssBeforeMb} / ${p.rssPeakMb}`]);
  }
  rows.push(['Slack edge: bot process RSS at the start / end (MB)', `${e.rssStartMb} / ${e.rssEndMb}`]);
}

if (part('queue')) {
  const q = await benchQueue(opts.redisUrl, config, retriever, Math.max(seconds, 12)); // 6,000 messages a path: a steady p99
  results.queue = q;
  rows.push(
    [`direct path, ${fmt(q.offeredPerSec)} msgs/s offered by ${q.users} users over 2 instances: receive-to-reply p50 / p99 ms`, `${q.direct.p50ms} / ${q.direct.p99ms} (${fmt(q.direct.messages)} msgs, ${fmt(q.direct.achievedPerSec)}/s)`],
    [`durable queue, same load: receive-to-reply p50 / p99 ms`, `${q.queued.p50ms} / ${q.queued.p99ms} (${fmt(q.queued.messages)} msgs, ${fmt(q.queued.achievedPerSec)}/s)`],
    ['queue cost per turn: added p50 / p99 ms', `${q.addedP50ms} / ${q.addedP99ms}`],
  );
}

if (opts.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
else {
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(w)}  ${v}\n`);
}
