/**
 * `npm run safety:train`: trains the crisis check's second opinion (the linear
 * risk model, src/safety/model/) on data/safety/train.tsv plus the client
 * inputs of the conversation corpus as N lines (ordinary conversation, which
 * the risk corpus's near-miss N lines do not cover), chooses its thresholds on
 * data/safety/dev.tsv and writes data/safety/risk_model.json. The test split
 * is never read here.
 *
 * The output is deterministic (no timestamp, fixed key order, a full-batch
 * fit), so retraining on an unchanged corpus leaves the file byte-identical and
 * a diff of the file is a diff of the model.
 *
 * Exit codes: 0 written (or unchanged), 1 training or writing failed,
 * 2 bad usage or malformed input (a corpus line, a missing file, a split
 * without both classes).
 */
import { Command, CommanderError } from 'commander';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, formatProblems, loadEngineConfig } from '../src/config/load.js';
import { CrisisCheck } from '../src/safety/crisis-check.js';
import { grammarDigest } from '../src/safety/grammar/digest.js';
import { CorpusError, conversationNegatives, isRiskLabel, readLabelledTsv, type LabelledLine } from '../src/safety/corpus.js';
import { normalizeRiskText } from '../src/safety/normalize.js';
import { trainRiskModel } from '../src/safety/model/train.js';
import { startProgress } from '../src/util/progress.js';

const say = (msg: string) => process.stderr.write(`${msg}\n`);

const program = new Command()
  .name('safety:train')
  .description('Train the risk model (the crisis check\'s trained second opinion) and choose its thresholds on the dev split.')
  .option('--train <files...>', 'training split files', ['data/safety/train.tsv', 'data/safety/extra_train_a.tsv', 'data/safety/extra_train_b.tsv', 'data/safety/ordinary_train.tsv'])
  .option('--dev <files...>', 'dev split files (thresholds and reported figures)', ['data/safety/dev.tsv', 'data/safety/ordinary_dev.tsv'])
  .option('--config-dir <dir>', 'config folder holding the risk grammar', 'config')
  .option('--no-grammar', 'choose the low threshold for the model alone (the grammar\'s flags not counted)')
  .option('--out <file>', 'model file to write', 'data/safety/risk_model.json')
  .option('--data-dir <dir>', 'data folder holding the conversation corpus', 'data')
  .option('--no-conversation', 'leave out the conversation corpus (train on --train alone)')
  .option('--no-progress', 'no progress display')
  .addHelpText(
    'after',
    `
Input lines are LABEL<TAB>text with labels E (explicit risk), I (indirect risk), N (must not trigger); # starts a comment.
The client inputs of <data-dir>/state_actions/all_dr_q_exchanges.json are added to training as N lines.
Thresholds: high = lowest with dev false-positive rate <= 0.5%; low = lowest with dev false alarms of the
risk grammar (risk or check-in) and the model together <= 1.5%. The model records the grammar's digest: a
changed grammar makes it stale (retrain).
Progress goes to stderr (a bar on a terminal, a line per 10% or 5 s otherwise); the dev figures to stdout.
Exit codes: 0 written or unchanged, 1 training or writing failed, 2 bad usage or malformed input.`,
  )
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

function main(): number {
  try {
    program.parse();
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2; // --help is 0; commander already printed the problem
    throw err;
  }
  const opts = program.opts<{ train: string[]; dev: string[]; out: string; dataDir: string; configDir: string; grammar: boolean; conversation: boolean; progress: boolean }>();
  const outFile = resolve(opts.out);
  const [trainName, devName] = [opts.train.join(' + '), opts.dev.join(' + ')];

  let train: LabelledLine[];
  let dev: LabelledLine[];
  let background: LabelledLine[] | undefined;
  let grammar: { flagged: boolean[]; digest: string } | undefined;
  try {
    train = opts.train.flatMap((f) => readLabelledTsv(f));
    dev = opts.dev.flatMap((f) => readLabelledTsv(f));
    if (opts.conversation) background = conversationNegatives(resolve(opts.dataDir));
    if (opts.grammar) grammar = grammarFlags(resolve(opts.configDir), dev);
  } catch (err) {
    if (err instanceof CorpusError) {
      say(`Malformed input, nothing written: ${err.message}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      say(`The conversation corpus or the config is invalid, nothing written:\n${formatProblems(err.problems)}`);
      return 2;
    }
    throw err;
  }
  for (const [name, lines] of [[trainName, train], [devName, dev]] as const) {
    const risk = lines.filter((l) => isRiskLabel(l.label)).length;
    if (risk === 0 || risk === lines.length) {
      say(`Malformed input, nothing written: ${name} needs both risk (E/I) and N lines; it has ${risk} risk of ${lines.length}.`);
      return 2;
    }
  }
  warnAboutCorpus(train, dev, trainName, devName);
  say(`train: ${train.length} lines (${count(train, 'E')} E, ${count(train, 'I')} I, ${count(train, 'N')} N) from ${trainName}`);
  say(`dev:   ${dev.length} lines (${count(dev, 'E')} E, ${count(dev, 'I')} I, ${count(dev, 'N')} N) from ${devName}`);
  if (grammar) say(`grammar: flags ${grammar.flagged.filter(Boolean).length} dev lines; counted in the low threshold's false-alarm budget`);
  if (background) say(`conversation: ${background.length} client inputs as N lines, trained on with train`);

  const started = performance.now();
  let progress: ReturnType<typeof startProgress> | undefined;
  let trained;
  try {
    trained = trainRiskModel(train, dev, {
      ...(background ? { background } : {}),
      ...(grammar ? { devAlreadyFlagged: grammar.flagged, grammarDigest: grammar.digest } : {}),
      onProgress: (i, max) => {
        progress ??= startProgress('fitting (L-BFGS iterations)', max, { enabled: opts.progress });
        progress.update(i);
      },
    });
    progress?.stop();
  } catch (err) {
    progress?.stop();
    say(`Training failed, nothing written: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const { file, json } = trained;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  say(
    `fitted in ${seconds} s: ${file.training.iterations} iterations${file.training.converged ? '' : ' (iteration cap reached before the tolerance)'}, ` +
      `${file.weights.count} non-zero weights, ${(json.length / 1024).toFixed(0)} kB`,
  );

  let previous: string | null = null;
  try {
    previous = readFileSync(outFile, 'utf8');
  } catch {
    // no previous model
  }
  if (previous === json) say(`${outFile} unchanged (same corpus, same model)`);
  else {
    try {
      const tmp = `${outFile}.${process.pid}.tmp`;
      writeFileSync(tmp, json);
      renameSync(tmp, outFile);
    } catch (err) {
      say(`Writing ${outFile} failed: ${(err as Error).message}`);
      return 1;
    }
    say(`wrote ${outFile}`);
  }

  const m = file.dev_metrics;
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);
  const line = (name: string, t: number, r: typeof m.high) =>
    `  ${name.padEnd(5)} threshold ${t.toFixed(4)}: recall ${pct(r.recall)} (E ${pct(r.recall_E)}, I ${pct(r.recall_I)}), ` +
    `false-positive rate ${pct(r.fpr)} (${r.flagged_n} of ${m.lines - m.risk} N lines)`;
  process.stdout.write(
    [`dev (${m.lines} lines, ${m.risk} risk): AUC ${m.auc === null ? 'n/a' : m.auc.toFixed(4)}`, line('high', file.thresholds.high, m.high), line('low', file.thresholds.low, m.low)].join('\n') + '\n',
  );
  return 0;
}

/** The risk grammar's verdict (risk or check-in) on each dev line, and the grammar's digest. */
function grammarFlags(configDir: string, dev: readonly LabelledLine[]): { flagged: boolean[]; digest: string } {
  const config = loadEngineConfig(configDir);
  const check = new CrisisCheck(config.safety, config.riskGrammar);
  const flagged = dev.map((l) => {
    const a = check.assess(l.text, [], { release: false });
    return Boolean(a.risk || a.possible);
  });
  return { flagged, digest: grammarDigest(config.riskGrammar) };
}

function count(lines: readonly LabelledLine[], label: LabelledLine['label']): number {
  return lines.filter((l) => l.label === label).length;
}

/** Warns (does not fail) about dev lines that also occur in train, and texts labelled two ways. */
function warnAboutCorpus(train: readonly LabelledLine[], dev: readonly LabelledLine[], trainName: string, devName: string): void {
  const seen = new Map<string, LabelledLine>();
  for (const l of train) {
    const key = normalizeRiskText(l.text);
    const other = seen.get(key);
    if (other && other.label !== l.label) say(`warning: ${trainName}:${l.line} (${l.label}) and line ${other.line} (${other.label}) normalise to the same text`);
    seen.set(key, l);
  }
  const shared = dev.filter((l) => seen.has(normalizeRiskText(l.text)));
  if (shared.length > 0)
    say(`warning: ${shared.length} ${devName} line(s) also occur in ${trainName} after normalisation (dev figures are optimistic), e.g. line ${shared.slice(0, 5).map((l) => l.line).join(', ')}`);
}

try {
  process.exitCode = main();
} catch (err) {
  say(`safety:train: unexpected error: ${err instanceof Error ? err.stack : String(err)}`);
  process.exitCode = 1;
}
