/**
 * zod schemas for every file under config/system/core_system/. The types the
 * rest of the engine uses are inferred from these, so a field exists in code
 * exactly when the schema says it does.
 */
import { z } from 'zod';

const id = z.string().min(1);
const phrase = z.string().min(1).max(200);
const phraseList = z.array(phrase).min(1);

// ---------------------------------------------------------------- classification

export const SlotSpecSchema = z
  .object({
    description: z.string().optional(),
    /** Cue phrases: the slot is the text that follows the cue, up to the end of the clause. */
    after: z.array(phrase).optional(),
    /** A label whose whole clause becomes the slot when no cue matched (e.g. "work is hectic"). */
    clause_of: id.optional(),
    /** A label whose matched words become the slot when nothing else did (e.g. "chest"). */
    lexicon: id.optional(),
    /** Longest slot value, in words. Default 6. */
    max_words: z.number().int().min(1).max(30).default(6),
    /** Turn first person into second person ("my chest" -> "your chest"). Default false. */
    reflect: z.boolean().default(false),
    /** A free answer fills it only as a phrase, never a clause ("calm", not "your boss is awful"). */
    phrase_only: z.boolean().default(false),
    /** Only the lexicon's words fill it: a free answer to its question counts, without a value ("in my gut area"). */
    lexicon_only: z.boolean().default(false),
    /** Labels that keep a message from filling it ("when I was made redundant" is the past, not a trigger). */
    unless: z.array(id).default([]),
  })
  .strict()
  .refine((s) => s.after || s.clause_of || s.lexicon, {
    message: 'a slot needs at least one of "after", "clause_of" or "lexicon"',
  });

export const ClassificationConfigSchema = z
  .object({
    version: id,
    description: z.string().optional(),
    situation_classifications: z.record(id, phraseList),
    computed: z
      .object({
        /** Label given to a message with at most this many words (e.g. "..." has none). */
        silence: z.object({ max_words: z.number().int().min(0) }).strict().optional(),
        /** Label given to a message with at least this many words. */
        rambling: z.object({ min_words: z.number().int().min(1) }).strict().optional(),
      })
      .strict()
      .default({}),
    slots: z.record(id, SlotSpecSchema).default({}),
  })
  .strict();

// ---------------------------------------------------------------- navigation

export const TriggerSchema = z.union([
  id,
  z.object({ action: id, goto: id.optional() }).strict(),
]);

export const CriterionSchema = z
  .object({
    /** Labels any one of which establishes the criterion. */
    met_by: z.array(id).default([]),
    /** The criterion only counts when this slot has a value (from this turn or earlier). */
    requires_slot: id.optional(),
    /** Any answer that fires no interrupt and no trigger establishes it (open questions). */
    accept_any_answer: z.boolean().default(false),
    /** Store the answer's first clause in this slot if no slot rule filled it. */
    capture: id.optional(),
    /** The action that asks for this criterion. */
    ask: id,
    /**
     * Labels that establish this criterion from a message in any earlier substate, or out of
     * its order in its own (the person said it before being asked). Its slot (`requires_slot`
     * or `capture`) must come with it. The same labels let a later statement replace the slot.
     */
    ahead_by: z.array(id).default([]),
    /** The action that asks again, differently worded, after a turn that did not answer it. */
    again: id.optional(),
    /** The action after a soft or minimal answer ("maybe", "I guess"): a gentler check, not a repeat. */
    soft: id.optional(),
  })
  .strict();

export const SubstateSchema = z
  .object({
    title: z.string().min(1),
    objective: z.string().min(1),
    /** Facts to establish, in order: a turn can only establish the first unmet one (then the next). */
    completion_criteria: z.array(id),
    criteria: z.record(id, CriterionSchema),
    /** Classification label -> action (or { action, goto }). First label in file order wins. */
    triggers: z.record(id, TriggerSchema).default({}),
    /** Turns without progress before the flow moves on. Absent: never. */
    max_attempts: z.number().int().min(1).optional(),
    next: id.optional(),
    terminal: z.boolean().default(false),
    /** Action on entering the substate; default: the first criterion's "ask". */
    entry_action: id.optional(),
    /** Action when nothing else applies; default: the first unmet criterion's "ask". */
    default_action: id.optional(),
    rag_queries: z.record(id, id),
  })
  .strict();

export const InterruptSchema = z
  .object({
    description: z.string().min(1),
    /** "safety": handled by the safety protocol before navigation; never capped. */
    handler: z.literal('safety').optional(),
    when: z.array(id).optional(),
    action: id.optional(),
    /** Times it may fire per substate before the main flow carries on. */
    max_attempts: z.number().int().min(1).optional(),
    rag_queries: z.record(id, id).default({}),
  })
  .strict()
  .superRefine((i, ctx) => {
    if (i.handler === 'safety') return;
    for (const field of ['when', 'action', 'max_attempts'] as const) {
      if (i[field] === undefined) {
        ctx.addIssue({ code: 'custom', path: [field], message: `required unless "handler" is "safety"` });
      }
    }
  });

export const StageSchema = z
  .object({ title: z.string().min(1), substates: z.record(id, SubstateSchema) })
  .strict();

export const NavigationConfigSchema = z
  .object({
    version: id,
    description: z.string().optional(),
    start: id,
    interrupt_priority: z.array(id).min(1),
    interrupts: z.record(id, InterruptSchema),
    stages: z.record(id, StageSchema),
    /** Actions that explain (psychoeducation): one never follows another; the criterion's `again` stands in. */
    explanations: z.array(id).default([]),
    /**
     * Soft or minimal answers ("maybe", "hmm", "I guess"): a message of at most `max_words`
     * words with this label answers no open question; the criterion's `soft` move follows.
     */
    /** Labels that never make a message a free answer to an open question ("hi" is not a goal). */
    not_answers: z.array(id).default([]),
    /** Trigger labels that, on an open question, fire only in a short message or a question ("No time to think" answers it). */
    short_reply_labels: z.array(id).default([]),
    soft: z
      .object({
        label: id,
        /** Labels that count as soft too when the open question does not take them ("ok" to an open question). */
        also: z.array(id).default([]),
        max_words: z.number().int().min(1).default(4),
      })
      .strict()
      .optional(),
  })
  .strict();

// ---------------------------------------------------------------- responses: responses-schema.ts

export { ResponsesConfigSchema, type ResponsesConfig } from './responses-schema.js';

// ---------------------------------------------------------------- safety: safety-schema.ts

export { SafetyConfigSchema, type SafetyConfig } from './safety-schema.js';

// ---------------------------------------------------------------- retrieval

export const RetrievalConfigSchema = z
  .object({
    version: id,
    description: z.string().optional(),
    /** Examples retrieved per turn. */
    k: z.number().int().min(1).max(50),
    /** Examples less similar than this (cosine) are dropped. */
    min_similarity: z.number().min(-1).max(1),
    index: z
      .object({
        /** FAISS index_factory string: "Flat" (exact) or e.g. "HNSW32,Flat" for large corpora. */
        factory: z.string().min(1),
        /** Search-time parameters, e.g. { "efSearch": 64 } for HNSW, { "nprobe": 16 } for IVF. */
        params: z.record(z.string(), z.number()).default({}),
      })
      .strict(),
    local: z.object({ dimension: z.number().int().min(16).max(8192) }).strict(),
    openai: z
      .object({
        model: z.string().min(1),
        /** Output dimension (text-embedding-3 models can shorten); omit for the model's own. */
        dimensions: z.number().int().min(1).max(8192).optional(),
        /** The API accepts at most 2,048 inputs per request. */
        max_inputs_per_request: z.number().int().min(1).max(2048),
        /** Token budget per request (estimated conservatively from characters). */
        max_tokens_per_request: z.number().int().min(1000),
        concurrency: z.number().int().min(1).max(64),
        timeout_seconds: z.number().min(1).max(600),
        max_retries: z.number().int().min(0).max(20),
      })
      .strict(),
  })
  .strict();

// ---------------------------------------------------------------- rate limits

/** At most `points` in a fixed window of `duration_s` seconds; `null` turns the limit off. */
export const RateLimitSchema = z
  .object({
    points: z.number().int().positive(),
    duration_s: z.number().int().positive().max(86_400),
  })
  .strict()
  .nullable();

export const RateLimitsConfigSchema = z
  .object({
    version: id,
    description: z.string().optional(),
    /** Messages per person ("<platform>:<user>"), across all their sessions. */
    per_user: RateLimitSchema,
    /** Messages per session (a DM or a thread, whoever writes in it). */
    per_session: RateLimitSchema,
    /** Messages per tenant (workspace / server); skipped for turns without a tenant. */
    per_tenant: RateLimitSchema,
    /** LLM tokens per window, for all instances together. */
    llm_tokens: RateLimitSchema,
    /** Once a key has used its whole allowance, refuse it from memory until the window ends (no Redis call). */
    block_in_memory: z.boolean().default(true),
  })
  .strict();

// ---------------------------------------------------------------- example exchanges

export const ExchangeSchema = z
  .object({
    id: id,
    client_input: z.string().min(1),
    therapist_response: z.string().min(1),
    substate: id,
    action: id,
    category: id,
    synthetic: z.boolean().optional(),
  })
  .strict();
export const ExchangesSchema = z.array(ExchangeSchema);

export type ClassificationConfig = z.infer<typeof ClassificationConfigSchema>;
export type SlotSpec = z.infer<typeof SlotSpecSchema>;
export type NavigationConfig = z.infer<typeof NavigationConfigSchema>;
export type Substate = z.infer<typeof SubstateSchema>;
export type Criterion = z.infer<typeof CriterionSchema>;
export type Trigger = z.infer<typeof TriggerSchema>;
export type Interrupt = z.infer<typeof InterruptSchema>;
export type Exchange = z.infer<typeof ExchangeSchema>;
export type RetrievalConfig = z.infer<typeof RetrievalConfigSchema>;
export type RateLimitsConfig = z.infer<typeof RateLimitsConfigSchema>;
export type RateLimit = NonNullable<z.infer<typeof RateLimitSchema>>;

// ---------------------------------------------------------------- LLM prompts

const lines = z.union([z.string().min(1), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v.join('\n') : v));

export const LlmConfigSchema = z
  .object({
    version: id,
    description: z.string().optional(),
    /** The system prompt template (a string, or lines joined with newlines). */
    system_prompt: lines,
    role: z.string().min(1),
    method_rules: z.array(z.string().min(1)).min(1),
    /** Added to the method rules for a person who asked for short replies (`settings replies short`). */
    short_replies: z.string().min(1),
    safety_rules: z.array(z.string().min(1)).min(1),
    /** One line per option the model may choose: {number} {criteria} {action} {guidance}. */
    option_line: z.string().min(1),
    examples_intro: z.string(),
    /** One retrieved example: {client} {guide}. */
    example_line: z.string().min(1),
    /** Shown for the option that meets no criterion. */
    no_criteria: z.string().min(1),
    /** What each action's reply should do (every navigation action needs one). */
    actions: z.record(id, z.string().min(1)),
    /** When the person's message meets each completion criterion (every criterion needs one). */
    criteria: z.record(id, z.string().min(1)),
    /** Retrieved examples shown per option as style references. */
    examples_per_option: z.number().int().min(0).max(10),
    temperature: z.number().min(0).max(2),
    budget: z
      .object({
        description: z.string().optional(),
        tokenizer: z.enum(['o200k_base', 'cl100k_base']),
        /** The reply's token allowance (max_tokens). */
        reply_tokens: z.number().int().min(50).max(16_000),
        /** Most tokens of history sent per turn. */
        history_tokens: z.number().int().min(0).max(1_000_000),
        /** Share of the context kept free for tokenizer differences between models. */
        margin: z.number().min(0).max(0.5),
      })
      .strict(),
    guards: z
      .object({
        description: z.string().optional(),
        max_reply_chars: z.number().int().min(50).max(20_000),
        /** Phrases a reply must not contain, by reason (matched like classification phrases). */
        banned: z.record(id, z.array(phrase)),
        /** Phrases that show the model saw a risk (crisis lines, emergency services): the fixed crisis response replaces the reply. */
        escalate: z.array(phrase).default([]),
      })
      .strict(),
  })
  .strict();

export type LlmConfig = z.infer<typeof LlmConfigSchema>;

// ---------------------------------------------------------------- feature flags (tenants: tenant-schema.ts)

export const FlagsConfigSchema = z
  .object({
    version: id,
    description: z.string().optional(),
    flags: z.record(id, z.boolean()),
    descriptions: z.record(id, z.string()).default({}),
  })
  .strict();

export type FlagsConfig = z.infer<typeof FlagsConfigSchema>;
export { TenantsConfigSchema, type TenantsConfig, type TenantAlertConfig } from './tenant-schema.js';
