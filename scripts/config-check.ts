/**
 * `npm run config:check`: validates every config file against its schema and
 * cross-checks them with each other and with the example corpus. Exits 1 with
 * the list of problems, 0 when all is well.
 */
import { Command } from 'commander';
import { resolve } from 'node:path';
import { ConfigError, checkConfig, formatProblems, loadEngineConfig, loadExchanges, type ConfigProblem } from '../src/index.js';

const program = new Command()
  .name('config:check')
  .description('Validate config/ and data/ (schemas, references, reachability, duplicates, example coverage).')
  .option('--config-dir <dir>', 'config folder', process.env.CONFIG_DIR || 'config')
  .option('--data-dir <dir>', 'data folder', process.env.DATA_DIR || 'data')
  .addHelpText('after', '\nExit codes: 0 valid, 1 problems found (listed on stderr).')
  .parse();
const opts = program.opts<{ configDir: string; dataDir: string }>();

let problems: ConfigProblem[] = [];
try {
  const config = loadEngineConfig(resolve(opts.configDir));
  const exchanges = loadExchanges(resolve(opts.dataDir));
  problems = checkConfig(config, exchanges);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  problems = err.problems;
}
if (problems.length > 0) {
  process.stderr.write(`config:check found ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${formatProblems(problems)}\n`);
  process.exit(1);
}
process.stdout.write('config:check: all config files and example exchanges are valid\n');
