/**
 * `npm run config -- get|set|diff|history|rollback|delete --tenant <t> | --experiment <e> | --style <s>`:
 * config overrides, live on every instance within a second, without a restart.
 * Every write is a new version (nothing is overwritten), a rollback writes an
 * earlier version again, and each change leaves an audit entry (who, what, which
 * version; never the document) in the stream `npm run data -- audit` reads.
 *
 * Exit codes: 0 done, 1 failed (no such version, Redis error), 2 bad arguments,
 * invalid settings or base config, or no Redis configured, 3 invalid override
 * document (nothing written), 4 Redis unreachable.
 */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { ConfigError, formatProblems, loadEngineConfig, loadExchanges, type ConfigProblem, type EngineConfig } from '../src/config/load.js';
import { parseJsonText } from '../src/config/json-text.js';
import type { Exchange } from '../src/config/schemas.js';
import { settingsOrReport, type Settings } from '../src/config/settings.js';
import { applyLayer, asOverrideDocument, validateOverride } from '../src/overrides/effective.js';
import { diffPaths } from '../src/overrides/merge.js';
import { ExperimentSchema, LayerSchema, SCOPE_KINDS, SCOPE_NAME, scopeId, type Layer, type Scope } from '../src/overrides/override-doc.js';
import { NoSuchVersionError, type StoredOverride } from '../src/overrides/override-store.js';
import { RedisOverrideStore } from '../src/overrides/redis-override-store.js';
import { createRedisStore, usesRedis } from '../src/session/create-store.js';
import { StoreUnavailableError } from '../src/session/store.js';

const EXIT_CODES = 'Exit codes: 0 done, 1 failed (e.g. no such version), 2 bad arguments, invalid settings or base config, or no Redis, 3 invalid override document (nothing written), 4 Redis unreachable.';
/** Longest value shown in a diff line: enough to recognise a response line, short enough for a terminal. */
const MAX_SHOWN = 120;

/** Ends the command with an exit code and a message for stderr (thrown, so `finally` closes Redis first). */
class Exit extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

interface ScopeOpts {
  tenant?: string;
  experiment?: string;
  style?: string;
  operator?: string;
}

function scopeOf(opts: ScopeOpts): Scope {
  const given = SCOPE_KINDS.filter((k) => opts[k] !== undefined);
  if (given.length !== 1) throw new Exit(2, 'give exactly one of --tenant <name>, --experiment <name>, --style <name>');
  const kind = given[0]!;
  const name = opts[kind]!;
  if (!SCOPE_NAME.test(name)) throw new Exit(2, `--${kind} must be letters, digits, "_", "." or "-", at most 64 (got ${JSON.stringify(name.slice(0, 80))})`);
  return { kind, name };
}

const actorOf = (opts: ScopeOpts) => `operator:${opts.operator ?? process.env.OPERATOR ?? userInfo().username}`;

function settings(): Settings {
  const s = settingsOrReport(process.env, (m) => process.stderr.write(m));
  if (!s) throw new Exit(2, '');
  return s;
}

/** The base config and example exchanges the override is checked against (as `npm start` loads them). */
function base(s: Settings): { config: EngineConfig; exchanges: Exchange[] } {
  try {
    return { config: loadEngineConfig(resolve(s.CONFIG_DIR)), exchanges: loadExchanges(resolve(s.DATA_DIR)) };
  } catch (err) {
    if (err instanceof ConfigError) throw new Exit(2, `the base config is invalid; fix it first (npm run config:check):\n${formatProblems(err.problems)}`);
    throw err;
  }
}

function invalid(what: string, problems: ConfigProblem[]): Exit {
  return new Exit(3, `${what} (${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing written):\n${formatProblems(problems)}`);
}

async function withStore(s: Settings, fn: (store: RedisOverrideStore) => Promise<void>): Promise<void> {
  if (!usesRedis(s)) throw new Exit(2, 'No REDIS_URL (or REDIS_CLUSTER_NODES / REDIS_SENTINELS) is set: overrides live in Redis.');
  let sessions;
  try {
    sessions = await createRedisStore(s);
  } catch (err) {
    if (err instanceof StoreUnavailableError) throw new Exit(4, err.message);
    throw err;
  }
  // The session store's audit(): one audit stream, one field convention, for every operator action.
  const store = new RedisOverrideStore({ client: sessions.client, prefix: s.REDIS_KEY_PREFIX, audit: (e) => sessions.audit(e) });
  try {
    await fn(store);
  } finally {
    await sessions.close();
  }
}

function readDoc(opts: { file?: string; json?: string }): { doc: unknown; source: string } {
  if ((opts.file === undefined) === (opts.json === undefined)) throw new Exit(2, 'give the document with exactly one of --file <path> (- for stdin) or --json <doc>');
  let text: string;
  let source: string;
  if (opts.json !== undefined) [text, source] = [opts.json, '--json'];
  else {
    source = opts.file === '-' ? 'stdin' : opts.file!;
    try {
      text = readFileSync(opts.file === '-' ? 0 : opts.file!, 'utf8');
    } catch (err) {
      throw new Exit(1, `cannot read ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const parsed = parseJsonText(text);
  if (!parsed.ok) throw invalid('not an override document', [{ file: source, path: '$', line: parsed.line, column: parsed.column, message: `not valid JSON: ${parsed.message}` }]);
  return { doc: parsed.value, source };
}

const show = (v: unknown) => {
  if (v === undefined) return '(absent)';
  const s = JSON.stringify(v);
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN - 1)}…` : s;
};

type StyleLookup = ((name: string) => Promise<StoredOverride | undefined>) | undefined;

/** Applies layers in order over the base and lists every path that differs from the base. */
async function layered(config: EngineConfig, exchanges: Exchange[], layer: Layer | undefined, label: string, styles: StyleLookup, indent = ''): Promise<string[]> {
  if (!layer) return [`${indent}(no layer: the base config)`];
  const lines: string[] = [];
  const first = applyLayer(config, layer, label, exchanges);
  if (first.problems.length > 0) return [`${indent}does not fit the current base config:`, formatProblems(first.problems)];
  let effective = first.config;
  if (layer.style) {
    const styleId = scopeId({ kind: 'style', name: layer.style });
    const stored = await styles?.(layer.style);
    if (!styles) lines.push(`${indent}(${styleId} applies after this layer; not read here: see \`diff\`)`);
    else if (!stored) lines.push(`${indent}(${styleId} is named but has no override: nothing more applies)`);
    else {
      const parsed = LayerSchema.safeParse(stored.doc);
      const styled = parsed.success ? applyLayer(effective, parsed.data, `override ${styleId}`, exchanges) : undefined;
      if (!styled || styled.problems.length > 0) lines.push(`${indent}(${styleId} version ${stored.version} does not fit over this layer and is left out)`);
      else {
        lines.push(`${indent}(with ${styleId} version ${stored.version} applied after this layer)`);
        effective = styled.config;
      }
    }
  }
  // In the document's terms: each path is where an override would set it.
  const diffs = diffPaths(asOverrideDocument(config), asOverrideDocument(effective));
  if (diffs.length === 0) lines.push(`${indent}(no change from the base)`);
  for (const d of diffs) lines.push(`${indent}${d.path}: ${show(d.before)} -> ${show(d.after)}`);
  return lines;
}

/** The effective config of a scope's document against the base: one section per experiment arm. */
async function effectiveLines(config: EngineConfig, exchanges: Exchange[], scope: Scope, doc: unknown, styles: StyleLookup): Promise<string[]> {
  const where = `override ${scopeId(scope)}`;
  if (scope.kind !== 'experiment') {
    const layer = LayerSchema.safeParse(doc);
    return layer.success ? layered(config, exchanges, layer.data, where, styles) : ['(the stored document no longer parses; see `get`)'];
  }
  const parsed = ExperimentSchema.safeParse(doc);
  if (!parsed.success) return ['(the stored document no longer parses; see `get`)'];
  const e = parsed.data;
  const total = Object.values(e.split).reduce((a, b) => a + b, 0);
  const lines = [`active: ${e.active}; tenants: ${e.tenants ? e.tenants.join(', ') : 'all'}`];
  for (const [arm, weight] of Object.entries(e.split)) {
    lines.push(`arm ${arm} (weight ${weight}, ${Math.round((weight / total) * 1000) / 10}%):`);
    lines.push(...(await layered(config, exchanges, e.arms[arm], `${where} arm ${arm}`, styles, '  ')));
  }
  return lines;
}

/** What a version's document touches, for `history` (never the content itself). */
function touches(doc: unknown): string {
  if (doc === null) return '(deleted)';
  if (typeof doc !== 'object' || doc === undefined) return '(not an object)';
  const out: string[] = [];
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    if ((key === 'config' || key === 'arms') && value && typeof value === 'object') out.push(...Object.keys(value).map((k) => `${key}.${k}`));
    else out.push(key);
  }
  return out.length > 0 ? out.join(', ') : '(empty)';
}

const out = (line: string): void => void process.stdout.write(`${line}\n`);

const program = new Command()
  .name('config')
  .description('Config overrides per tenant, experiment or style, live on every instance without a restart, with history and rollback.')
  .addHelpText('after', `\n${EXIT_CODES}`)
  // Usage errors exit 2 (as documented), not commander's default 1; help exits 0.
  .exitOverride();

/** A subcommand with the scope options every command takes. */
function command(name: string, description: string, writes = false): Command {
  const c = program
    .command(name)
    .description(description)
    .option('--tenant <name>', 'a tenant (config/system/core_system/tenants.json names them)')
    .option('--experiment <name>', 'an experiment (arms chosen per person, by weight)')
    .option('--style <name>', 'a therapist style (applies after the tenant or arm naming it)')
    .addHelpText('after', `\nGive exactly one of --tenant, --experiment, --style.\n${EXIT_CODES}`);
  return writes ? c.option('--operator <name>', 'who makes the change (audit trail); default OPERATOR or the OS user') : c;
}

command('get', 'print the current override (JSON, with version, time and actor)').action((opts: ScopeOpts) => {
  const scope = scopeOf(opts);
  return withStore(settings(), async (store) => {
    const cur = await store.get(scope);
    if (!cur) return out(`no override for ${scopeId(scope)}: the base config applies`);
    out(JSON.stringify({ scope: scopeId(scope), version: cur.version, at: cur.at, actor: cur.actor, action: cur.action, ...(cur.from !== undefined ? { from: cur.from } : {}), doc: cur.doc }, null, 2));
  });
});

command('set', 'validate a document against the base config and write it as a new version', true)
  .option('--file <path>', 'the document (JSON); - reads stdin')
  .option('--json <doc>', 'the document inline')
  .option('--dry-run', 'validate and show what would change; write nothing (needs no Redis)')
  .action(async (opts: ScopeOpts & { file?: string; json?: string; dryRun?: boolean }) => {
    const scope = scopeOf(opts);
    const s = settings();
    const { doc, source } = readDoc(opts);
    const { config, exchanges } = base(s);
    const problems = validateOverride(config, exchanges, scope, doc);
    if (problems.length > 0) throw invalid(`invalid override for ${scopeId(scope)} (from ${source})`, problems);
    if (opts.dryRun) {
      out(`valid: ${scopeId(scope)} (dry run, nothing written). Against the base config:`);
      for (const line of await effectiveLines(config, exchanges, scope, doc, undefined)) out(line);
      return;
    }
    await withStore(s, async (store) => {
      const prev = await store.get(scope);
      const written = await store.set(scope, doc, actorOf(opts));
      out(`${scopeId(scope)}: version ${written.version} written (was ${prev ? `version ${prev.version}` : 'none'}); live on every instance within a second`);
    });
  });

command('diff', 'show the effective config of the current override against the base (per arm for an experiment)').action((opts: ScopeOpts) => {
  const scope = scopeOf(opts);
  const s = settings();
  const { config, exchanges } = base(s);
  return withStore(s, async (store) => {
    const cur = await store.get(scope);
    if (!cur) return out(`no override for ${scopeId(scope)}: the effective config is the base`);
    out(`${scopeId(scope)} version ${cur.version} (${cur.at}, ${cur.actor}) against the base config:`);
    for (const line of await effectiveLines(config, exchanges, scope, cur.doc, (name) => store.get({ kind: 'style', name }))) out(line);
  });
});

command('history', 'list versions, newest first (what each touches, not the content)')
  .option('--limit <n>', 'how many', '20')
  .action((opts: ScopeOpts & { limit: string }) => {
    const scope = scopeOf(opts);
    const limit = Number(opts.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new Exit(2, `--limit must be a whole number from 1 to 1000 (got ${JSON.stringify(opts.limit)})`);
    return withStore(settings(), async (store) => {
      const rows = await store.history(scope, limit);
      if (rows.length === 0) return out(`no history for ${scopeId(scope)}`);
      for (const r of rows) out(`v${r.version}  ${r.at}  ${r.actor}  ${r.action}${r.from !== undefined ? ` (from v${r.from})` : ''}  ${touches(r.doc)}`);
    });
  });

command('rollback', 'write an earlier version again as a new version (default: the newest earlier one with a document)', true)
  .option('--to <version>', 'the version to restore (see history); a deleted version deletes')
  .action((opts: ScopeOpts & { to?: string }) => {
    const scope = scopeOf(opts);
    const to = opts.to === undefined ? undefined : Number(opts.to);
    if (to !== undefined && !(Number.isInteger(to) && to >= 1)) throw new Exit(2, `--to must be a version number (got ${JSON.stringify(opts.to)})`);
    const s = settings();
    const { config, exchanges } = base(s);
    return withStore(s, async (store) => {
      const rows = await store.history(scope);
      // The same choice the store's script makes, made here first so the target can be re-validated.
      const target = to !== undefined ? rows.find((r) => r.version === to) : rows.slice(1).find((r) => r.doc !== null);
      if (!target) throw new Exit(1, `${scopeId(scope)}: ${to !== undefined ? `no version ${to}` : 'nothing to roll back to'} (see history)`);
      if (target.doc !== null) {
        // Valid when it was written, but the base may have changed since (a renamed substate, a removed flag).
        const problems = validateOverride(config, exchanges, scope, target.doc);
        if (problems.length > 0) throw invalid(`version ${target.version} of ${scopeId(scope)} no longer fits the base config`, problems);
      }
      const cur = await store.get(scope);
      // Explicit `to`: exactly the version validated above, even if someone wrote in between.
      const written = await store.rollback(scope, actorOf(opts), target.version);
      const restored = target.doc === null ? 'which deleted the override' : 'restored';
      out(`${scopeId(scope)}: version ${cur ? cur.version : 'none'} -> ${written.version} (the document of version ${target.version}, ${restored})`);
    });
  });

command('delete', 'remove the current override (history kept; rollback restores it)', true).action((opts: ScopeOpts) => {
  const scope = scopeOf(opts);
  return withStore(settings(), async (store) => {
    const cur = await store.get(scope);
    if (!cur) return out(`no override for ${scopeId(scope)}: nothing to delete`);
    const written = await store.delete(scope, actorOf(opts));
    out(`${scopeId(scope)}: deleted at version ${written.version} (was version ${cur.version}; \`rollback\` restores it)`);
  });
});

try {
  await program.parseAsync();
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2); // commander printed the message
  if (err instanceof Exit) {
    if (err.message) process.stderr.write(`${err.message}\n`);
    process.exit(err.code);
  }
  process.stderr.write(`config: ${err instanceof NoSuchVersionError ? '' : 'failed: '}${(err as Error).message}\n`);
  process.exit(1);
}
