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
import { APIConnectionError, APIConnectionTimeoutError } from 'openai';
import { resolve } from 'node:path';
import {
  OpenAiEmbedder,
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
  type Exchange,
} from '../src/index.js';
import { embeddedText } from '../src/rag/index-files.js';
import { startProgress } from '../src/util/progress.js';
import { useDotEnv } from '../adapters/common/dotenv.js';

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
Examples with the same text share one embedding, so there can be fewer texts than examples.
With nothing changed (same examples, same embedder) it writes nothing: the files stay byte-identical.
Off a terminal, progress is a plain line at each further 10% or every 5 s.
The openai provider needs OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible server).
Exit codes: 0 done, 1 invalid corpus or config, 2 invalid settings, 3 embedding or build failed.`,
  )
  .parse();
const opts = program.opts<{ provider?: EmbeddingsProvider; dryRun?: boolean; configDir?: string; dataDir?: string; progress: boolean }>();

const say = (msg: string) => process.stderr.write(`${msg}\n`);

async function main(): Promise<number> {
  useDotEnv('embeddings:build');
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
    `${exchanges.length} examples; embedder ${embedder.provider} (${embedder.model}, ${embedder.dimension} dimensions); index ${config.retrieval.index.factory}; ` +
      `${plan.distinct} distinct texts: ${plan.toEmbed.length} to embed, ${plan.reused} reused from the last build`,
  );
  const shared = sharedTexts(exchanges);
  if (shared.length > 0) say(`  ${plan.distinct} texts for ${exchanges.length} examples: examples with the same text share one embedding (${shared.join('; ')})`);
  if (opts.dryRun) {
    say('dry run: nothing written');
    return 0;
  }

  const started = performance.now();
  const progress = startProgress('embedding texts', plan.toEmbed.length, { enabled: opts.progress });
  try {
    const { metadata, written } = await buildIndex({ dataDir, exchanges, embedder, retrieval: config.retrieval, onProgress: (done) => progress.update(done) });
    progress.stop();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (!written) say(`nothing changed (same examples, same embedder): ${dataDir}/embeddings/ left as it was, built ${metadata.built_at}`);
    else say(`built in ${seconds} s: ${metadata.corpus.count} examples (${plan.distinct} embeddings) in ${Object.keys(metadata.counts_per_category).length} categories -> ${dataDir}/embeddings/`);
    return 0;
  } catch (err) {
    progress.stop();
    say(`${failure(err, embedder, config.retrieval.openai.max_retries + 1)} The previous index is untouched.`);
    return 3;
  }
}

/** Groups of examples that embed the same text, e.g. `"yes": ex-0096, ex-0186` (the first five groups). */
function sharedTexts(exchanges: readonly Exchange[]): string[] {
  const byText = new Map<string, string[]>();
  for (const e of exchanges) byText.set(embeddedText(e), [...(byText.get(embeddedText(e)) ?? []), e.id]);
  const groups = [...byText].filter(([, ids]) => ids.length > 1);
  const shown = groups.slice(0, 5).map(([text, ids]) => `${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)}: ${ids.join(', ')}`);
  return groups.length > 5 ? [...shown, `${groups.length - 5} more`] : shown;
}

/** One sentence for a failed build; an unreachable server is named by its URL, since that is what to fix. */
function failure(err: unknown, embedder: unknown, tries: number): string {
  if (err instanceof APIConnectionError && embedder instanceof OpenAiEmbedder) {
    const why = err instanceof APIConnectionTimeoutError ? 'timed out' : `could not be reached (${rootCause(err)})`;
    return `Embedding failed: the embeddings server at ${embedder.baseURL} ${why}, ${tries} ${tries === 1 ? 'try' : 'tries'}; check OPENAI_BASE_URL and that the server is up.`;
  }
  const e = err as { status?: number; message?: string };
  const message = (e.message ?? String(err)).replace(/\.+$/, '');
  return `Embedding or build failed${e.status ? ` (HTTP ${e.status})` : ''}: ${message}.`;
}

/** The innermost cause's code (ECONNREFUSED, ENOTFOUND) or message: fetch wraps it twice. */
function rootCause(err: Error): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) {
    e = e.cause;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return e instanceof Error ? e.message : String(e);
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
