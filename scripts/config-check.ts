/**
 * `npm run config:check`: validates every config file against its schema and
 * cross-checks them with each other and with the example corpus. Exits 1 with
 * the list of problems (each naming the file it is in), 0 when all is well.
 * The folder: `npm run config:check -- /tmp/cfg` or `--config-dir /tmp/cfg`.
 */
import { Command, CommanderError } from 'commander';
import { resolve } from 'node:path';
import { ConfigError, checkConfig, formatProblems, loadEngineConfig, loadExchanges, type ConfigProblem } from '../src/index.js';

const program = new Command()
  .name('config:check')
  .description('Validate config/ and data/ (schemas, references, reachability, duplicates, example coverage).')
  .argument('[config-dir]', 'config folder (the same as --config-dir)')
  .option('--config-dir <dir>', 'config folder', process.env.CONFIG_DIR || 'config')
  .option('--data-dir <dir>', 'data folder', process.env.DATA_DIR || 'data')
  .addHelpText('after', '\nEvery problem names the file it is in (under the folder checked) and the JSON path, or line:column for a JSON syntax error.\nExit codes: 0 valid, 1 problems found (listed on stderr), 2 bad arguments.')
  // Usage errors exit 2, apart from "problems found"; help exits 0.
  .exitOverride();
try {
  program.parse();
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2); // commander printed the message
  throw err;
}
const opts = program.opts<{ configDir: string; dataDir: string }>();
const configDir = program.args[0] ?? opts.configDir;

let problems: ConfigProblem[] = [];
try {
  const config = loadEngineConfig(resolve(configDir));
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
