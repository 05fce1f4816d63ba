/**
 * `npm run safety:eval -- FILE.tsv [FILE.tsv...]`: the crisis check (risk grammar and the
 * shipped model, as every instance runs it) scored on labelled files: recall per label,
 * the false-alarm rate, every miss and false alarm, with 95% intervals.
 *
 * Exit codes: 0 evaluated (whatever the figures), 1 an unreadable or malformed file or
 * config, 2 usage.
 */
import { Command } from 'commander';
import { resolve } from 'node:path';
import { ConfigError, CrisisCheck, formatProblems, loadEngineConfig } from '../src/index.js';
import { CorpusError, readLabelledTsv } from '../src/safety/corpus.js';
import { evaluate, formatRate, type EvalReport } from '../src/safety/eval.js';
import { RiskModel, RiskModelError } from '../src/safety/model/risk-model.js';

const program = new Command()
  .name('safety:eval')
  .description('Score the crisis check on labelled files (label<TAB>text; labels E explicit, I indirect, N must not trigger).')
  .argument('<files...>', 'TSV files to score')
  .option('--json', 'one JSON report per file on standard output')
  .option('--model <file>', 'model file', 'data/safety/risk_model.json')
  .option('--no-model', 'the risk grammar alone, without the trained model')
  .option('--quiet', 'figures only: no list of misses and false alarms')
  .option('--config-dir <dir>', 'config folder', 'config')
  .addHelpText(
    'after',
    `
Caught means the crisis response or the check-in (both carry the crisis lines); a false
alarm is an N line that gets either. Lines starting with # are comments.
Exit codes: 0 evaluated, 1 unreadable or malformed file or config, 2 usage.`,
  )
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
  .parse();
// `--model FILE` names the model; `--no-model` makes it false.
const opts = program.opts<{ json?: boolean; model: string | false; quiet?: boolean; configDir: string }>();

function main(): number {
  let check: CrisisCheck;
  try {
    const config = loadEngineConfig(resolve(opts.configDir));
    const model = opts.model === false ? undefined : RiskModel.load(resolve(opts.model));
    check = new CrisisCheck(config.safety, config.riskGrammar, model);
  } catch (err) {
    if (err instanceof ConfigError) process.stderr.write(`Invalid config:\n${formatProblems(err.problems)}\n`);
    else if (err instanceof RiskModelError) process.stderr.write(`${err.message}\n`);
    else throw err;
    return 1;
  }
  for (const file of program.args) {
    let report: EvalReport;
    try {
      report = evaluate(check, readLabelledTsv(file), file);
    } catch (err) {
      if (!(err instanceof CorpusError)) throw err;
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else print(report, check.hasModel);
  }
  return 0;
}

function print(r: EvalReport, model: boolean): void {
  const out = (s = ''): void => void process.stdout.write(`${s}\n`);
  out(`${r.file} (${model ? 'risk grammar + model' : 'risk grammar alone'})`);
  out(`  explicit (E) caught:   ${formatRate(r.recall.E)}   crisis response alone: ${formatRate(r.riskTierRecall.E)}`);
  out(`  indirect (I) caught:   ${formatRate(r.recall.I)}   crisis response alone: ${formatRate(r.riskTierRecall.I)}`);
  out(`  false alarms (N):      ${formatRate(r.falseAlarms)}   crisis response alone: ${formatRate(r.riskTierFalseAlarms)}`);
  if (opts.quiet) {
    out();
    return;
  }
  if (r.misses.length > 0) out(`  misses:`);
  for (const m of r.misses) out(`    ${m.line}\t${m.label}\t${m.text}`);
  if (r.alarms.length > 0) out(`  false alarms:`);
  for (const a of r.alarms) out(`    ${a.line}\t${a.tier}\t${a.reasons.join(',')}\t${a.text}`);
  out();
}

process.exitCode = main();
