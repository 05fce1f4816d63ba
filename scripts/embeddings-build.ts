/**
 * `npm run embeddings:build`: rebuilds the retrieval index from
 * data/state_actions/all_dr_q_exchanges.json. Validates every record first,
 * reuses the vectors of unchanged examples, shows progress, and writes
 * data/embeddings/ atomically.
 *
 * Exit codes: 0 built (or dry run fine), 1 invalid corpus or config, 2 invalid
 * settings, 3 embedding or build failure.
 */
import { Command, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { resolve } from 'node:path';
import {
  ConfigError,
  buildIndex,
  createEmbedder,
  formatProblems,
  loadEngineConfig,
  loadExchanges,
  settingsOrReport,
  planBuild,
  previousVectors,
  type EmbeddingsProvider,
} from '../src/index.js';

const program = new Command()
  .name('embeddings:build')
  .description('Rebuild the FAISS retrieval index from the example exchanges (incremental: unchanged examples are not re-embedded).')
  .addOption(new Option('--provider <name>', 'embedder to use (default: EMBEDDINGS_PROVIDER, else local)').choices(['local', 'openai']))
  .option('--dry-run', 'validate and report what would be embedded; write nothing')
  .option('--config-dir <dir>', 'config folder (default: CONFIG_DIR or config)')
  .option('--data-dir <dir>', 'data folder (default: DATA_DIR or data)')
  .option('--no-progress', 'no progress bar')
  .addHelpText(
    'after',
    `
Writes data/embeddings/trt_rag_index.faiss, trt_rag_vectors.f32 and trt_rag_metadata.json.
The openai provider needs OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible server).
Exit codes: 0 done, 1 invalid corpus or config, 2 invalid settings, 3 embedding or build failed.`,
  )
  .parse();
const opts = program.opts<{ provider?: EmbeddingsProvider; dryRun?: boolean; configDir?: string; dataDir?: string; progress: boolean }>();

const say = (msg: string) => process.stderr.write(`${msg}\n`);

async function main(): Promise<number> {
  const settings = settingsOrReport({ ...process.env, ...(opts.provider ? { EMBEDDINGS_PROVIDER: opts.provider } : {}) }, (m) => process.stderr.write(m));
  if (!settings) return 2;
  const configDir = resolve(opts.configDir ?? settings.CONFIG_DIR);
  const dataDir = resolve(opts.dataDir ?? settings.DATA_DIR);
  let config, exchanges;
  try {
    config = loadEngineConfig(configDir);
    exchanges = loadExchanges(dataDir);
  } catch (err) {
    if (err instanceof ConfigError) {
      say(`The corpus or config is invalid; nothing was built:\n${formatProblems(err.problems)}`);
      return 1;
    }
    throw err;
  }

  const embedder = createEmbedder(settings.EMBEDDINGS_PROVIDER, config.retrieval, { apiKey: settings.OPENAI_API_KEY, baseURL: settings.OPENAI_BASE_URL });
  const plan = planBuild(exchanges, embedder, previousVectors(dataDir, embedder));
  say(
    `${exchanges.length} examples; embedder ${embedder.provider} (${embedder.model}, ${embedder.dimension} dimensions); ` +
      `index ${config.retrieval.index.factory}; ${plan.toEmbed.length} text(s) to embed, ${plan.reused} reused from the last build`,
  );
  if (opts.dryRun) {
    say('dry run: nothing written');
    return 0;
  }

  const bar = new SingleBar(
    { format: 'embedding [{bar}] {value}/{total} texts | {rate}/s | ETA {eta_formatted}', noTTYOutput: true, notTTYSchedule: 2000, stream: process.stderr },
    Presets.shades_classic,
  );
  const started = performance.now();
  if (opts.progress && plan.toEmbed.length > 0) bar.start(plan.toEmbed.length, 0, { rate: '0' });
  try {
    const { metadata } = await buildIndex({
      dataDir,
      exchanges,
      embedder,
      retrieval: config.retrieval,
      onProgress: (done) => {
        if (opts.progress) bar.update(done, { rate: Math.round(done / ((performance.now() - started) / 1000)).toString() });
      },
    });
    if (opts.progress && plan.toEmbed.length > 0) bar.stop();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    say(`built in ${seconds} s: ${metadata.corpus.count} examples in ${Object.keys(metadata.counts_per_category).length} categories -> ${dataDir}/embeddings/`);
    return 0;
  } catch (err) {
    if (opts.progress) bar.stop();
    const e = err as { status?: number; message?: string };
    say(`Embedding or build failed${e.status ? ` (HTTP ${e.status})` : ''}: ${e.message ?? String(err)}. The previous index is untouched.`);
    return 3;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    say(`embeddings:build: unexpected error: ${err instanceof Error ? err.stack : String(err)}`);
    process.exitCode = 1;
  },
);
