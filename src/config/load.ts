/**
 * Loads the version-controlled config files once at start-up. Every problem in
 * every file is collected, then reported together, each naming the file and
 * the JSON path, so an operator fixes them all in one pass.
 */
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import type { z } from 'zod';
import {
  ClassificationConfigSchema,
  ExchangesSchema,
  NavigationConfigSchema,
  RateLimitsConfigSchema,
  LlmConfigSchema,
  FlagsConfigSchema,
  TenantsConfigSchema,
  type LlmConfig,
  type FlagsConfig,
  type TenantsConfig,
  ResponsesConfigSchema,
  RetrievalConfigSchema,
  SafetyConfigSchema,
  type ClassificationConfig,
  type Exchange,
  type NavigationConfig,
  type RateLimitsConfig,
  type ResponsesConfig,
  type RetrievalConfig,
  type SafetyConfig,
} from './schemas.js';
import { RiskGrammarSchema, type RiskGrammarConfig } from './risk-grammar-schema.js';
import { parseJsonText } from './json-text.js';

/** File names under `<configDir>/system/core_system/`. */
export const CONFIG_FILES = {
  navigation: 'simplified_navigation.json',
  classification: 'input_classification_patterns.json',
  responses: 'fallback_responses.json',
  safety: 'safety_protocol.json',
  riskGrammar: 'risk_grammar.json',
  retrieval: 'retrieval.json',
  rateLimits: 'rate_limits.json',
  llm: 'llm_prompts.json',
  flags: 'flags.json',
  tenants: 'tenants.json',
} as const;

/** The example corpus, relative to the data directory. */
export const EXCHANGES_FILE = join('state_actions', 'all_dr_q_exchanges.json');

export interface EngineConfig {
  navigation: NavigationConfig;
  classification: ClassificationConfig;
  responses: ResponsesConfig;
  safety: SafetyConfig;
  /** The crisis check's risk grammar (reviewed base config; never overridden). */
  riskGrammar: RiskGrammarConfig;
  retrieval: RetrievalConfig;
  rateLimits: RateLimitsConfig;
  /** The LLM responder's prompt, guards and token budget (used only when an LLM is configured). */
  llm: LlmConfig;
  /** Feature flags (overrides may switch them per tenant, arm or style). */
  flags: FlagsConfig;
  /** Slack team / Discord guild ids -> tenant names (overrides, analytics). */
  tenants: TenantsConfig;
}

/** One problem found in a config file: where, and what. */
export interface ConfigProblem {
  file: string;
  /** JSONPath-like location, e.g. `$.stages.stage_1.substates["1.1_goal"].next`. */
  path: string;
  message: string;
  /** A JSON syntax error: where in the text (1-based), shown as `file:line:column` instead of the path. */
  line?: number;
  column?: number;
  /**
   * Something defined but not used (an example or a description for a substate, action or
   * criterion that does not exist). An error in the base files (a typo, most likely); harmless
   * in an override that removed the thing.
   */
  unused?: boolean;
}

/** Thrown when config cannot be used; `problems` lists every issue found. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: ConfigProblem[]) {
    super(`Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${formatProblems(problems)}`);
    this.name = 'ConfigError';
  }
}

/**
 * One line per problem: `file: $.path: message`, or `file:line:column: message` for a syntax
 * error. A message that already names its path (`protected: $.config.safety cannot ...`) is not
 * prefixed with it a second time.
 */
export function formatProblems(problems: ConfigProblem[]): string {
  return problems
    .map((p) => {
      if (p.line !== undefined) return `  ${p.file}:${p.line}:${p.column ?? 1}: ${p.message}`;
      return namesPath(p.message, p.path) ? `  ${p.file}: ${p.message}` : `  ${p.file}: ${p.path}: ${p.message}`;
    })
    .join('\n');
}

function namesPath(message: string, path: string): boolean {
  if (path === '$') return false;
  const i = message.indexOf(path);
  return i >= 0 && (i === 0 || /\s/.test(message[i - 1]!)) && (i + path.length === message.length || /\s/.test(message[i + path.length]!));
}

/** A file as shown in problems: relative to the working directory inside it, absolute outside it (never `../../tmp/...`). */
export function displayPath(file: string, root = process.cwd()): string {
  const rel = relative(root, file);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

/**
 * Which file each loaded part came from (the parsed object -> its path as shown), so the
 * cross-checks name the folder really checked. Kept beside the objects rather than in
 * EngineConfig: the parts travel by reference (through `{ ...config }`, overrides, tests).
 */
const SOURCES = new WeakMap<object, string>();

/** The file a loaded part (a config file's object, the exchanges array) came from, else `fallback`. */
export function sourceOf(part: object | undefined, fallback: string): string {
  return (part && SOURCES.get(part)) ?? fallback;
}

/** Records that `part` came from the same file as `from` (an override merged over a base part). */
export function sameSource(part: object, from: object): void {
  const file = SOURCES.get(from);
  if (file !== undefined) SOURCES.set(part, file);
}

/** Renders a zod/JSON path as `$.a.b[0]["1.1_goal"]`. */
export function jsonPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '$';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) out += `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** Reads, parses and validates one JSON file, adding any problems to `problems`. */
export function readJsonFile<S extends z.ZodType>(
  file: string,
  schema: S,
  problems: ConfigProblem[],
  displayRoot = process.cwd(),
): z.output<S> | undefined {
  const shown = displayPath(file, displayRoot);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.push({ file: shown, path: '$', message: code === 'ENOENT' ? 'file not found' : `cannot read (${code})` });
    return undefined;
  }
  const parsed = parseJsonText(text);
  if (!parsed.ok) {
    problems.push({ file: shown, path: '$', line: parsed.line, column: parsed.column, message: `not valid JSON: ${parsed.message}` });
    return undefined;
  }
  const result = schema.safeParse(parsed.value);
  if (!result.success) {
    for (const issue of result.error.issues) {
      problems.push({ file: shown, path: jsonPath(issue.path), message: issue.message });
    }
    return undefined;
  }
  if (typeof result.data === 'object' && result.data !== null) SOURCES.set(result.data, shown);
  return result.data;
}

/** Loads and validates the config files; throws ConfigError listing every problem. */
export function loadEngineConfig(configDir: string): EngineConfig {
  const dir = join(configDir, 'system', 'core_system');
  const problems: ConfigProblem[] = [];
  // One line for a wrong folder, not "file not found" ten times.
  if (!isDirectory(dir)) {
    const why = isDirectory(configDir) ? `has no system/core_system/ folder` : 'folder not found';
    throw new ConfigError([{ file: displayPath(configDir), path: '$', message: `${why} (the config folder holds system/core_system/*.json)` }]);
  }
  const navigation = readJsonFile(join(dir, CONFIG_FILES.navigation), NavigationConfigSchema, problems);
  const classification = readJsonFile(join(dir, CONFIG_FILES.classification), ClassificationConfigSchema, problems);
  const responses = readJsonFile(join(dir, CONFIG_FILES.responses), ResponsesConfigSchema, problems);
  const safety = readJsonFile(join(dir, CONFIG_FILES.safety), SafetyConfigSchema, problems);
  const riskGrammar = readJsonFile(join(dir, CONFIG_FILES.riskGrammar), RiskGrammarSchema, problems);
  const retrieval = readJsonFile(join(dir, CONFIG_FILES.retrieval), RetrievalConfigSchema, problems);
  const rateLimits = readJsonFile(join(dir, CONFIG_FILES.rateLimits), RateLimitsConfigSchema, problems);
  const llm = readJsonFile(join(dir, CONFIG_FILES.llm), LlmConfigSchema, problems);
  const flags = readJsonFile(join(dir, CONFIG_FILES.flags), FlagsConfigSchema, problems);
  const tenants = readJsonFile(join(dir, CONFIG_FILES.tenants), TenantsConfigSchema, problems);
  if (problems.length > 0 || !navigation || !classification || !responses || !safety || !riskGrammar || !retrieval || !rateLimits || !llm || !flags || !tenants) {
    throw new ConfigError(problems);
  }
  return { navigation, classification, responses, safety, riskGrammar, retrieval, rateLimits, llm, flags, tenants };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Loads the example exchanges (used by retrieval and by the config check). */
export function loadExchanges(dataDir: string): Exchange[] {
  const problems: ConfigProblem[] = [];
  const exchanges = readJsonFile(join(dataDir, EXCHANGES_FILE), ExchangesSchema, problems);
  if (!exchanges) throw new ConfigError(problems);
  return exchanges;
}
