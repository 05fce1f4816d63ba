/**
 * `npm run bench`: speed and quality figures for the README.
 *  - classifier and crisis-check throughput on 200-character messages;
 *  - in-memory turn throughput (the whole turn: crisis check, classify,
 *    navigate, retrieve, respond, commit) over many sessions, one core;
 *  - crisis detection recall and false-positive rate on the three test sets;
 *  - retrieval recall@5 of the expected category on the held-out paraphrases.
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  Classifier,
  CrisisCheck,
  Engine,
  FaissRetriever,
  LocalEmbedder,
  MemorySessionStore,
  loadEngineConfig,
  loadExchanges,
  silentLogger,
  type Retriever,
} from '../../src/index.js';
import { measureIndex, type IndexFigures } from './retrieval.js';
import { percentile } from './synthetic.js';

const program = new Command()
  .name('bench')
  .description('Measure classifier and turn throughput, crisis detection quality and retrieval recall.')
  .option('--seconds <n>', 'time per throughput measurement', '3')
  .option('--json', 'print the figures as JSON')
  .option('--skip-large', 'skip the 100k x 1,536 index measurements (they take minutes)')
  .parse();
const opts = program.opts<{ seconds: string; json?: boolean; skipLarge?: boolean }>();
const SECONDS = Number(opts.seconds);

const root = resolve(import.meta.dirname, '..', '..');
const config = loadEngineConfig(join(root, 'config'));
const exchanges = loadExchanges(join(root, 'data'));
const results: Record<string, unknown> = { node: process.version, date: new Date().toISOString().slice(0, 10) };

/** Runs fn for about `seconds` in five slices; returns the median rate (ops/s), which shrugs off a GC pause or a noisy neighbour. */
function throughput(fn: (i: number) => void, seconds = SECONDS): number {
  for (let i = 0; i < 5000; i++) fn(i); // warm-up: let the JIT settle
  const rates: number[] = [];
  let ops = 0;
  for (let slice = 0; slice < 5; slice++) {
    const start = performance.now();
    const end = start + (seconds * 1000) / 5;
    let n = 0;
    while (performance.now() < end) {
      for (let i = 0; i < 1000; i++) fn(ops + i);
      ops += 1000;
      n += 1000;
    }
    rates.push(n / ((performance.now() - start) / 1000));
  }
  return rates.sort((a, b) => a - b)[2]!;
}

// ---- 200-character messages built from the corpus inputs
const messages = exchanges.map((e) => (e.client_input + ' ' + e.therapist_response).padEnd(200, ' and that is how it feels').slice(0, 200));

const embedder = new LocalEmbedder(config.retrieval.local.dimension);
const retriever = FaissRetriever.load({ dataDir: join(root, 'data'), exchanges, embedder, retrieval: config.retrieval, logger: silentLogger });
const classifier = new Classifier(config.classification);
const crisis = new CrisisCheck(config.safety);
results.patterns = classifier.patternCount;
results.classificationsPerSec = Math.round(throughput((i) => classifier.classify(messages[i % messages.length]!)));
results.crisisChecksPerSec = Math.round(throughput((i) => crisis.assess(messages[i % messages.length]!)));

// ---- in-memory turns: closed loop over 256 sessions walking the stage
const script = ['hello', 'work is hectic', 'I want to feel calm and present', 'yes', 'sure', 'that makes sense', 'my boss emails me at night', 'in my chest', "it's tight", 'yes right now', 'when the phone buzzes I tense up', 'ready', 'done', 'lighter', 'reset'];
async function turnThroughput(sessions: number): Promise<number> {
  const engine = new Engine({ config, store: new MemorySessionStore(), retriever });
  let turns = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: sessions }, async (_, s) => {
      for (let i = 0; performance.now() < deadline; i++) {
        await engine.handleTurn({ sessionId: `bench:${s}`, userId: `u${s}`, platform: 'bench', text: script[i % script.length]! });
        turns++;
      }
    }),
  );
  return turns / ((performance.now() - start) / 1000);
}
results.turnsPerSec1 = Math.round(await turnThroughput(1));
results.turnsPerSec256 = Math.round(await turnThroughput(256));

// ---- crisis detection quality
interface CrisisSet {
  must_trigger: Array<{ text: string }>;
  must_not_trigger: Array<{ text: string }>;
}
for (const name of ['crisis_set', 'crisis_heldout', 'crisis_test']) {
  const set = JSON.parse(readFileSync(join(root, 'test', 'fixtures', `${name}.json`), 'utf8')) as CrisisSet;
  const caught = set.must_trigger.filter((x) => crisis.assess(x.text).risk).length;
  const false_ = set.must_not_trigger.filter((x) => crisis.assess(x.text).risk).length;
  results[name] = { recall: +(caught / set.must_trigger.length).toFixed(3), falsePositiveRate: +(false_ / set.must_not_trigger.length).toFixed(3), n: set.must_trigger.length + set.must_not_trigger.length };
}

// ---- retrieval recall@5 of the expected category (unscoped query, as a quality floor)
async function recallAt5(retriever: Retriever): Promise<number> {
  const heldout = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'rag_heldout.json'), 'utf8')) as { items: Array<{ text: string; category: string }> };
  let hits = 0;
  for (const item of heldout.items) {
    const top = await retriever.retrieve({ text: item.text, k: 5 });
    if (top.some((r) => r.exchange.category === item.category)) hits++;
  }
  return +(hits / heldout.items.length).toFixed(3);
}
results.faissLocalRecallAt5 = await recallAt5(retriever);

// ---- retrieval latency on the real corpus (embed the query + scoped search), and embedding rate
const texts = exchanges.map((e) => e.client_input);
results.localEmbedTextsPerSec = Math.round(throughput((i) => embedder.embedOne(texts[i % texts.length]!)));
{
  const lat: number[] = [];
  for (let i = 0; i < 5000; i++) {
    const e = exchanges[i % exchanges.length]!;
    const t = performance.now();
    await retriever.retrieve({ text: e.client_input, category: e.category, k: config.retrieval.k });
    lat.push(performance.now() - t);
  }
  results.corpusRetrieval = { p50ms: +percentile(lat, 0.5).toFixed(3), p99ms: +percentile(lat, 0.99).toFixed(3) };
}

// ---- FAISS on synthetic vectors
const indexes: IndexFigures[] = [
  measureIndex(1_000, 384, 'Flat'),
  measureIndex(10_000, 384, 'Flat'),
  measureIndex(10_000, 384, 'HNSW32,Flat', { efSearch: 32 }),
];
if (!opts.skipLarge) {
  indexes.push(measureIndex(100_000, 1536, 'Flat'));
  indexes.push(measureIndex(100_000, 1536, 'HNSW32,Flat', { efSearch: 80 }));
  // A PCA pre-transform makes each distance 6x cheaper (Debian's faiss has no AVX kernels).
  indexes.push(measureIndex(100_000, 1536, 'PCA256,HNSW32,Flat', { efSearch: 128 }));
}
results.indexes = indexes;

if (opts.json) {
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} else {
  const rows: Array<[string, string]> = [
    ['Node', String(results.node)],
    ['phrases compiled', String(results.patterns)],
    ['classifications/s (200-char messages)', fmt(results.classificationsPerSec)],
    ['crisis checks/s (200-char messages)', fmt(results.crisisChecksPerSec)],
    ['in-memory turns/s, 1 session', fmt(results.turnsPerSec1)],
    ['in-memory turns/s, 256 sessions', fmt(results.turnsPerSec256)],
    ...(['crisis_set', 'crisis_heldout', 'crisis_test'] as const).map((n): [string, string] => {
      const r = results[n] as { recall: number; falsePositiveRate: number; n: number };
      return [`crisis ${n} (n=${r.n}): recall / false positives`, `${r.recall} / ${r.falsePositiveRate}`];
    }),
    ['FAISS + local embedder recall@5 (held-out)', String(results.faissLocalRecallAt5)],
    ['local embedder texts/s', fmt(results.localEmbedTextsPerSec)],
    ['corpus retrieval p50 / p99 ms (embed + scoped search)', `${(results.corpusRetrieval as { p50ms: number }).p50ms} / ${(results.corpusRetrieval as { p99ms: number }).p99ms}`],
    ...indexes.map((x): [string, string] => [
      `${x.factory}${Object.keys(x.params).length ? ' ' + JSON.stringify(x.params) : ''} ${x.vectors.toLocaleString('en-US')} x ${x.dimension}: p50 / p99 ms, recall@10, build`,
      `${x.p50ms} / ${x.p99ms}, ${x.recallAt10}, ${x.buildSeconds} s (${fmt(x.addRate)} vectors/s)`,
    ]),
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(w)}  ${v}\n`);
}

function fmt(n: unknown): string {
  return Number(n).toLocaleString('en-US');
}
