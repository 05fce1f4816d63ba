/**
 * What an override holds, and where it applies. Overrides live in Redis (see
 * redis-override-store.ts) and change config without a restart: per tenant, per
 * experiment arm, per therapist style. Base config stays in the files.
 *
 * A document may change these parts of the config, merged over the base (objects
 * merge key by key, arrays and other values replace, `null` removes a key):
 *   navigation, responses, classification, llm
 * Never safety (the crisis check and response are reviewed base config only),
 * retrieval (bound to the built index) or rate limits (shared by every tenant).
 */
import { z } from 'zod';

export const SCOPE_KINDS = ['tenant', 'experiment', 'style'] as const;
export type ScopeKind = (typeof SCOPE_KINDS)[number];

export interface Scope {
  kind: ScopeKind;
  name: string;
}

/** Names of tenants, experiments, arms and styles: safe in Redis keys and log lines. */
export const SCOPE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** `tenant:acme`, `experiment:tone`, `style:warm`. */
export function scopeId(scope: Scope): string {
  return `${scope.kind}:${scope.name}`;
}

export function parseScopeId(id: string): Scope | undefined {
  const i = id.indexOf(':');
  const kind = id.slice(0, i) as ScopeKind;
  const name = id.slice(i + 1);
  return SCOPE_KINDS.includes(kind) && SCOPE_NAME.test(name) ? { kind, name } : undefined;
}

const name = z.string().regex(SCOPE_NAME, 'letters, digits, "_", "." or "-", at most 64');

/** The config parts an override may change (partial: only what differs from the base). */
export const OVERRIDABLE = ['navigation', 'responses', 'classification', 'llm'] as const;
export type Overridable = (typeof OVERRIDABLE)[number];

/**
 * The config parts no override may change, and why (the reason is part of the refusal). Both
 * spellings a person may write: EngineConfig's key and the file's (`rate_limits.json`).
 */
export const PROTECTED_PARTS: Readonly<Record<string, string>> = {
  safety: 'the crisis check and response are reviewed base config only',
  riskGrammar: 'the crisis check is reviewed base config only',
  risk_grammar: 'the crisis check is reviewed base config only',
  retrieval: 'it is bound to the built index',
  rateLimits: 'rate limits are shared by every tenant',
  rate_limits: 'rate limits are shared by every tenant',
  tenants: 'which workspace belongs to which tenant is base config (tenants.json)',
};

const ConfigPatch = z
  .object(Object.fromEntries(OVERRIDABLE.map((k) => [k, z.record(z.string(), z.unknown()).optional()])) as Record<Overridable, z.ZodOptional<z.ZodRecord<z.ZodString, z.ZodUnknown>>>)
  .strict();

/** One layer: config changes, feature flags, and (tenant or arm) the style it uses. */
export const LayerSchema = z
  .object({
    description: z.string().optional(),
    /** A style whose override applies after this layer (tenants and experiment arms). */
    style: name.optional(),
    /** Feature flags (see config/…/flags.json for the names). */
    flags: z.record(z.string(), z.boolean()).optional(),
    config: ConfigPatch.optional(),
  })
  .strict();
export type Layer = z.infer<typeof LayerSchema>;

/** An experiment: arms chosen by a hash of the person (`<platform>:<user>`), by weight. */
export const ExperimentSchema = z
  .object({
    description: z.string().optional(),
    /** Arm -> weight (any positive numbers; shares are weight / total). */
    split: z.record(name, z.number().positive()).refine((s) => Object.keys(s).length >= 1, 'at least one arm'),
    /** Arm -> its layer (an arm without one is a control: base config). */
    arms: z.record(name, LayerSchema).default({}),
    /** Tenants it runs for; absent: every conversation. */
    tenants: z.array(name).optional(),
    /** false pauses it (everyone gets the base). */
    active: z.boolean().default(true),
  })
  .strict()
  .superRefine((e, ctx) => {
    for (const arm of Object.keys(e.arms)) if (!(arm in e.split)) ctx.addIssue({ code: 'custom', path: ['arms', arm], message: `arm "${arm}" has no weight in "split"` });
  });
export type Experiment = z.infer<typeof ExperimentSchema>;

/** The document stored for a scope: a layer for tenants and styles, an experiment for experiments. */
export function docSchema(kind: ScopeKind): z.ZodType {
  return kind === 'experiment' ? ExperimentSchema : LayerSchema;
}
