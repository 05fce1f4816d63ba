/**
 * `npm run eval:conversations`: every persona script in eval/personas/ through the real engine
 * (offline responder, deterministic), scored per persona and in total: reached the end of
 * stage 1 and in how many turns, verbatim repeats, re-asks of a fact already given, slot
 * errors and fragments, interrupts and attempt caps (src/eval/conversations.ts defines each).
 *
 * Exit codes: 0 evaluated; 1 a total is worse than the baseline (with --check); 2 usage;
 * 3 a persona file or the config is unreadable or malformed.
 */
import { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, formatProblems } from '../src/index.js';
import { runPersona, totals, worseThan, type EvalTotals, type PersonaScore } from '../src/eval/conversations.js';
import { evalDeps } from '../src/eval/engine.js';
import { loadPersonas, PersonaError, type Persona } from '../src/eval/personas.js';

const ROOT = resolve(import.meta.dirname, '..');
const program = new Command()
  .name('eval:conversations')
  .description('Run the persona scripts through the engine (offline responder) and score how well the conversation listens.')
  .option('--json', 'one JSON object on standard output: per persona and totals')
  .option('--transcript <name>', 'print the transcript of one persona (its name or file), or "all"')
  .option('--personas <dir>', 'folder of persona scripts', 'eval/personas')
  .option('--baseline <file>', 'committed totals to compare with (for another --personas set, only when given)', 'eval/baseline.json')
  .option('--check', 'exit 1 when a total is worse than the baseline')
  .option('--write-baseline', 'write the totals of this run as the new baseline')
  .option('--config-dir <dir>', 'config folder', 'config')
  .addHelpText(
    'after',
    `
Each persona's messages are sent one per turn to a fresh session; a run takes a few seconds.
Worse than the baseline means fewer personas reaching the end or fewer cooperative ones within
1.3x the minimum turns, or more repeats, re-asks, slot errors or fragments.
Exit codes: 0 evaluated, 1 worse than the baseline (--check), 2 usage, 3 unreadable or malformed persona or config.`,
  )
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
  .parse();
const opts = program.opts<{ json?: boolean; transcript?: string; personas: string; baseline: string; check?: boolean; writeBaseline?: boolean; configDir: string }>();

async function main(): Promise<number> {
  let personas: Persona[];
  let deps: ReturnType<typeof evalDeps>;
  try {
    personas = loadPersonas(resolve(opts.personas));
    deps = evalDeps(ROOT, resolve(opts.configDir));
  } catch (err) {
    if (err instanceof ConfigError) process.stderr.write(`Invalid config:\n${formatProblems(err.problems)}\n`);
    else if (err instanceof PersonaError) process.stderr.write(`${err.message}\n`);
    else throw err;
    return 3;
  }
  const scores: PersonaScore[] = [];
  for (const [i, p] of personas.entries()) {
    if (!opts.json) process.stderr.write(`\r${i + 1}/${personas.length} ${p.name}`.padEnd(50));
    scores.push(await runPersona(deps, p));
  }
  if (!opts.json) process.stderr.write('\r'.padEnd(50) + '\r');
  const total = totals(scores);
  // The baseline is the default set's: another set is compared only with a baseline named for it.
  const compare = program.getOptionValueSource('personas') !== 'cli' || program.getOptionValueSource('baseline') === 'cli';
  const baseline = compare ? readBaseline(resolve(opts.baseline)) : undefined;
  const worse = baseline ? worseThan(total, baseline) : [];
  if (opts.json) process.stdout.write(`${JSON.stringify({ personas: scores.map(({ transcript, ...s }) => (opts.transcript ? { ...s, transcript } : s)), totals: total, baseline, worse })}\n`);
  else {
    printTable(scores, total);
    if (opts.transcript) for (const s of scores) if (opts.transcript === 'all' || s.name === opts.transcript || s.file === opts.transcript) printTranscript(s);
    if (baseline) process.stdout.write(worse.length === 0 ? `\nNo total is worse than ${opts.baseline}.\n` : `\nWorse than ${opts.baseline}:\n${worse.map((w) => `  ${w}`).join('\n')}\n`);
  }
  if (opts.writeBaseline) {
    writeFileSync(resolve(opts.baseline), `${JSON.stringify(total, null, 2)}\n`);
    process.stderr.write(`baseline written to ${opts.baseline}\n`);
  }
  return opts.check && worse.length > 0 ? 1 : 0;
}

function readBaseline(file: string): EvalTotals | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as EvalTotals;
  } catch {
    return undefined;
  }
}

function printTable(scores: readonly PersonaScore[], t: EvalTotals): void {
  const out = (s: string) => void process.stdout.write(`${s}\n`);
  const row = (cells: (string | number)[]) => cells.map((c, i) => (i === 0 ? String(c).padEnd(28) : String(c).padStart(8))).join('');
  out(row(['persona', 'msgs', 'end at', 'goal', 'repeats', 're-asks', 'slots', 'frags', 'intrpt', 'caps', 'safety']));
  for (const s of scores) {
    const end = s.turnsToEnd !== undefined ? String(s.turnsToEnd) : `- ${s.endedIn.split('_')[0]}`;
    const goal = s.cooperative ? (s.withinGoal ? 'yes' : 'NO') : '';
    out(row([s.name, s.messages, end, goal, s.repeats, s.reasks, s.slotErrors, s.fragments, s.interrupts, s.caps, s.safety]));
  }
  out(row(['total', '', `${t.reachedEnd}/${t.personas}`, `${t.cooperativeWithinGoal}/${t.cooperative}`, t.repeats, t.reasks, t.slotErrors, t.fragments, t.interrupts, t.caps, t.safetyPersonas]));
  out(`\nminimum turns for stage 1: ${scores[0]?.minTurns ?? '?'} (one answer per question); cooperative goal: at most 1.3x that.`);
}

function printTranscript(s: PersonaScore): void {
  const out = (x: string) => void process.stdout.write(`${x}\n`);
  out(`\n== ${s.name} (${s.file}) ==`);
  for (const [i, t] of s.transcript.entries()) {
    out(`${String(i + 1).padStart(2)} person: ${t.say}`);
    out(`   guide [${t.substate} ${t.action ?? ''}${t.interrupt ? ` interrupt:${t.interrupt}` : ''}]: ${t.reply}`);
    if (t.problems.length > 0) out(`   !! ${t.problems.join(', ')}`);
  }
}

process.exitCode = await main();
