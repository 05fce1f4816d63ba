/**
 * Applies override layers to the base config and validates the result with the
 * same zod schemas and cross-checks as the base: an override can never produce a
 * config the files could not. Problems name the layer and the JSON path.
 */
import { checkConfig } from '../config/check.js';
import { jsonPath, sameSource, type ConfigProblem, type EngineConfig } from '../config/load.js';
import { ClassificationConfigSchema, LlmConfigSchema, NavigationConfigSchema, ResponsesConfigSchema, type Exchange } from '../config/schemas.js';
import type { z } from 'zod';
import type { core } from 'zod';
import { mergeConfig } from './merge.js';
import { OVERRIDABLE, PROTECTED_PARTS, docSchema, type Layer, type Overridable, type Scope, scopeId } from './override-doc.js';

const SCHEMAS: Record<Overridable, z.ZodType> = {
  navigation: NavigationConfigSchema,
  responses: ResponsesConfigSchema,
  classification: ClassificationConfigSchema,
  llm: LlmConfigSchema,
};

/**
 * What no override may touch: the safety net stays the reviewed base everywhere. (The crisis
 * check and response are out of reach already: `safety` cannot be overridden at all.)
 */
export const PROTECTED_PATHS: ReadonlyArray<readonly string[]> = [
  ['responses', 'disclosure'], // "an automated self-help guide, not a therapist", first reply of every session
  ['responses', 'commands', 'help'], // carries the crisis lines
  ['llm', 'role'], // "not a therapist, a doctor or an emergency service"
  ['llm', 'system_prompt'], // the safety, injection and risk-flag paragraphs live in the template
  ['llm', 'safety_rules'],
  ['llm', 'guards', 'banned'],
  ['llm', 'guards', 'escalate'],
];

/** The config with one layer applied, or the problems that keep it out. */
export function applyLayer(base: EngineConfig, layer: Layer, where: string, exchanges: readonly Exchange[]): { config: EngineConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  for (const path of PROTECTED_PATHS) {
    if (touches(layer.config, path)) problems.push(refusal(where, ['config', ...path], 'safety texts and guards stay the base config\'s'));
  }
  if (problems.length > 0) return { config: base, problems };
  const config: EngineConfig = { ...base };
  for (const part of OVERRIDABLE) {
    const patch = layer.config?.[part];
    if (patch === undefined) continue;
    const parsed = SCHEMAS[part].safeParse(mergeConfig(base[part], patch));
    if (parsed.success) {
      (config as Record<Overridable, unknown>)[part] = parsed.data;
      sameSource(parsed.data as object, base[part]); // cross-check problems name the base file it was merged over
    }
    else for (const issue of parsed.error.issues) problems.push({ file: where, path: jsonPath(['config', part, ...issue.path]), message: issue.message });
  }
  for (const [flag, value] of Object.entries(layer.flags ?? {})) {
    if (!(flag in base.flags.flags)) problems.push({ file: where, path: jsonPath(['flags', flag]), message: `unknown flag "${flag}" (flags.json lists them)` });
    else config.flags = { ...config.flags, flags: { ...config.flags.flags, [flag]: value } };
  }
  // Examples and descriptions for a substate, action or criterion an override removed are
  // simply not used: an error only in the base files (a typo there).
  if (problems.length === 0) for (const p of checkConfig(config, exchanges)) if (!p.unused) problems.push({ ...p, file: `${where} (merged: ${p.file})` });
  return { config: problems.length === 0 ? config : base, problems };
}

/**
 * Checks a document before it is written: its shape for the scope's kind, then every
 * layer it holds merged over the base (an experiment: each arm).
 */
export function validateOverride(base: EngineConfig, exchanges: readonly Exchange[], scope: Scope, doc: unknown): ConfigProblem[] {
  const where = `override ${scopeId(scope)}`;
  const shape = docSchema(scope.kind).safeParse(doc);
  if (!shape.success) return shape.error.issues.flatMap((i) => shapeProblems(where, i));
  // Styles are the last layer: one naming another style would be silently ignored.
  if (scope.kind === 'style' && (shape.data as Layer).style) return [{ file: where, path: '$.style', message: 'a style cannot select another style' }];
  if (scope.kind !== 'experiment') return applyLayer(base, shape.data as Layer, where, exchanges).problems;
  const arms = (shape.data as { arms: Record<string, Layer> }).arms;
  return Object.entries(arms).flatMap(([arm, layer]) => applyLayer(base, layer, `${where} arm ${arm}`, exchanges).problems);
}

/** `protected: $.config.safety cannot be overridden (why)`: the path is in the message, so it is shown once. */
function refusal(where: string, path: PropertyKey[], why: string): ConfigProblem {
  const at = jsonPath(path);
  return { file: where, path: at, message: `protected: ${at} cannot be overridden (${why})` };
}

/**
 * A key the document schema does not allow: a protected part is refused as protected (zod's
 * "Unrecognized key" told nobody why), flags put under "config" are pointed to "flags", and any
 * other key is named on its own path with what may be there.
 */
function shapeProblems(where: string, issue: core.$ZodIssue): ConfigProblem[] {
  if (issue.code !== 'unrecognized_keys') return [{ file: where, path: jsonPath(issue.path), message: issue.message }];
  const inConfig = issue.path[issue.path.length - 1] === 'config';
  return issue.keys.map((key) => {
    const path = [...issue.path, key];
    const why = PROTECTED_PARTS[key];
    if (why) return refusal(where, path, why);
    if (inConfig && key === 'flags') return { file: where, path: jsonPath(path), message: `feature flags go beside "config", not in it: ${jsonPath([...issue.path.slice(0, -1), 'flags'])}` };
    const allowed = inConfig ? ` (an override may change ${OVERRIDABLE.join(', ')})` : '';
    return { file: where, path: jsonPath(path), message: `unknown key "${key}"${allowed}` };
  });
}

/**
 * The parts of a config an override changes, shaped like an override document, so a diff's
 * paths are the ones to write: `$.flags.llm_streaming` (not the flags file's own
 * `$.flags.flags.llm_streaming`) and `$.config.responses.actions.ask_goal`.
 */
export function asOverrideDocument(config: EngineConfig): { config: Record<Overridable, unknown>; flags: Record<string, boolean> } {
  return { config: Object.fromEntries(OVERRIDABLE.map((k) => [k, config[k]])) as Record<Overridable, unknown>, flags: config.flags.flags };
}

/** The patch sets (or removes) `path` or something inside or above it. */
function touches(patch: unknown, path: readonly string[]): boolean {
  let node: unknown = patch;
  for (const key of path) {
    if (node === null) return true; // a parent removed
    if (typeof node !== 'object' || Array.isArray(node) || !(key in (node as object))) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}
