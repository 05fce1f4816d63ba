/**
 * `npm run safety:bench`: how long the risk model takes to score a message
 * (feature extraction and dot product, RiskModel.score on normalised text),
 * the figure src/safety/model/features.ts quotes. Messages are cut to a fixed
 * length from the lines of a corpus file, normalised once up front, then scored
 * in two ways: one message over and over (everything in cache) and a cycle
 * through many different ones (the bucket table no longer in cache). Each is
 * the best of several runs, so another process on the machine inflates the
 * figure less.
 *
 * Exit codes: 0 measured, 1 the model or corpus could not be read, 2 usage.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { CorpusError, readLabelledTsv } from '../src/safety/corpus.js';
import { RiskModel, RiskModelError } from '../src/safety/model/risk-model.js';
import { normalizeRiskText } from '../src/safety/normalize.js';

const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('a positive integer');
  return n;
};

const program = new Command()
  .name('safety:bench')
  .description('Time RiskModel.score on messages of a fixed length.')
  .option('--model <file>', 'model file', 'data/safety/risk_model.json')
  .option('--corpus <file>', 'labelled lines to build messages from', 'data/safety/dev.tsv')
  .option('--chars <n>', 'message length before normalisation', positive, 200)
  .option('--messages <n>', 'distinct messages in the cycle', positive, 1000)
  .addHelpText('after', '\nExit codes: 0 measured, 1 the model or corpus could not be read, 2 usage.')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

/** Best time per message, in microseconds, of `runs` passes of `reps` times over `messages`. */
function best(model: RiskModel, messages: readonly string[], runs: number, reps: number): { us: number; sum: number } {
  let min = Infinity;
  let sum = 0; // keeps the scores live
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < reps; k++) for (const m of messages) sum += model.score(m);
    min = Math.min(min, Number(process.hrtime.bigint() - t0) / (reps * messages.length) / 1000);
  }
  return { us: min, sum };
}

function main(): number {
  try {
    program.parse();
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  const opts = program.opts<{ model: string; corpus: string; chars: number; messages: number }>();
  let model: RiskModel;
  let texts: string[];
  try {
    model = RiskModel.load(opts.model);
    texts = readLabelledTsv(opts.corpus).map((l) => l.text);
  } catch (err) {
    if (err instanceof RiskModelError || err instanceof CorpusError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  // Message i joins every seventh line from line i until it is long enough.
  const raw: string[] = [];
  for (let i = 0; raw.length < opts.messages; i++) {
    let s = '';
    for (let k = i; s.length < opts.chars; k += 7) s += `${texts[k % texts.length]}. `;
    raw.push(s.slice(0, opts.chars));
  }
  const messages = raw.map(normalizeRiskText);
  const mean = messages.reduce((a, m) => a + m.length, 0) / messages.length;
  best(model, messages, 3, 100); // warm-up for the optimising compiler
  const cycling = best(model, messages, 10, 50);
  const hot = best(model, messages.slice(0, 1), 10, 50_000);
  const t0 = process.hrtime.bigint();
  let chars = 0;
  for (let k = 0; k < 5; k++) for (const m of raw) chars += normalizeRiskText(m).length;
  const normalise = Number(process.hrtime.bigint() - t0) / (5 * raw.length) / 1000;
  process.stdout.write(
    `RiskModel.score on ${opts.chars}-character messages (${mean.toFixed(0)} characters once normalised), Node ${process.version}:\n` +
      `  one message repeated:                ${hot.us.toFixed(2)} us\n` +
      `  ${String(opts.messages).padEnd(5)} different messages in turn:   ${cycling.us.toFixed(2)} us\n` +
      `  normalizeRiskText, for comparison:   ${normalise.toFixed(2)} us (mean, not best)\n` +
      (Number.isNaN(cycling.sum + hot.sum + chars) ? 'a score was NaN\n' : ''),
  );
  return 0;
}

process.exitCode = main();
