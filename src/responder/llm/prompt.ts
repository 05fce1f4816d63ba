/**
 * Builds one turn's chat messages from the config's templates and measures them.
 *
 * - The system prompt carries the role, the method's and the safety rules, where
 *   the conversation is (objective, criteria done and missing, the phrase
 *   matcher's labels) and the navigator's options, each with its guidance and a
 *   few retrieved examples as style references; with the short-replies instruction
 *   when the person asked for short replies.
 * - Everything the person wrote sits between markers carrying a per-turn id
 *   derived from a hash of this turn's message: a person cannot close the block
 *   (they would need the hash of their own message), and marker look-alikes in
 *   their text are defused as well.
 * - History fills what the token budget leaves, newest turns first, whole turns
 *   only; crisis, safety and command turns are never sent.
 */
import { createHash } from 'node:crypto';
import type { LlmConfig } from '../../config/schemas.js';
import type { RetrievedExample } from '../../rag/retriever.js';
import type { HistoryEntry } from '../../session/store.js';
import type { ResponderInput, StepPlan } from '../responder.js';
import { fillSlots } from '../../text/template.js';
import { TOKENS_PER_MESSAGE, TOKENS_REPLY_PRIMING, type TokenCounter } from './tokens.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface BuiltPrompt {
  messages: ChatMessage[];
  /** Tokens of the whole prompt (format overhead included), as the tokenizer counts them. */
  promptTokens: number;
  /** The reply's allowance (max_tokens). */
  replyTokens: number;
  /** Earlier turns sent, and those left out for the budget. */
  turnsSent: number;
  turnsDropped: number;
  /** Examples shown as style references were dropped to fit the context. */
  examplesDropped: boolean;
  marker: string;
}

/** The prompt cannot fit the model's context even without history and examples. */
export class PromptTooLargeError extends Error {
  readonly code = 'PROMPT_TOO_LARGE';
}

/** Bot replies with these actions are not part of the conversation the model continues. */
const NOT_CONVERSATION = /^(safety:|help$|status$|forget|reset$|delivered$)/;

export interface PromptParts {
  config: LlmConfig;
  input: ResponderInput & { plan: StepPlan };
  tokens: TokenCounter;
  contextTokens: number;
}

export function buildPrompt({ config, input, tokens, contextTokens }: PromptParts): BuiltPrompt {
  const marker = createHash('sha256').update(`${input.sessionId}\0${input.turn}\0${input.text}`).digest('hex').slice(0, 16);
  const wrap = (text: string) => `<<<person ${marker}>>>\n${defuse(text)}\n<<<end person ${marker}>>>`;
  const current: ChatMessage = { role: 'user', content: wrap(input.text) };
  const cost = (m: ChatMessage) => tokens.count(m.content) + TOKENS_PER_MESSAGE;
  const limit = Math.floor(contextTokens * (1 - config.budget.margin)) - config.budget.reply_tokens;

  let examplesDropped = false;
  let system: ChatMessage = { role: 'system', content: systemPrompt(config, input, input.plan.examples, marker) };
  let fixed = cost(system) + cost(current) + TOKENS_REPLY_PRIMING;
  if (fixed > limit) {
    examplesDropped = true;
    system = { role: 'system', content: systemPrompt(config, input, new Map(), marker) };
    fixed = cost(system) + cost(current) + TOKENS_REPLY_PRIMING;
  }
  if (fixed > limit) throw new PromptTooLargeError(`prompt needs ${fixed} tokens; the context leaves ${limit}`);

  const turns = conversationTurns(input.history, wrap);
  const budget = Math.min(config.budget.history_tokens, limit - fixed);
  let used = 0;
  let kept = 0;
  for (let i = turns.length - 1; i >= 0; i--) {
    const turnCost = turns[i]!.reduce((sum, m) => sum + cost(m), 0);
    if (used + turnCost > budget) break; // trimmed from the oldest turn: nothing older is sent either
    used += turnCost;
    kept++;
  }
  const history = turns.slice(turns.length - kept).flat();
  return {
    messages: [system, ...history, current],
    promptTokens: fixed + used,
    replyTokens: config.budget.reply_tokens,
    turnsSent: kept,
    turnsDropped: turns.length - kept,
    examplesDropped,
    marker,
  };
}

function systemPrompt(config: LlmConfig, input: ResponderInput & { plan: StepPlan }, examples: ReadonlyMap<string | undefined, RetrievedExample[]>, marker: string): string {
  const { plan } = input;
  const bullets = (items: readonly string[]) => items.map((s) => `- ${s}`).join('\n');
  const describe = (criteria: readonly string[]) =>
    criteria.length === 0 ? 'none' : criteria.map((c) => `${c} (${config.criteria[c] ?? c})`).join('; ');
  return fillSlots(config.system_prompt, {
    role: config.role,
    // A person who asked for short replies: the reviewed instruction, last, so it outranks the usual length.
    method_rules: bullets(input.replyLength === 'short' ? [...config.method_rules, config.short_replies] : config.method_rules),
    safety_rules: bullets(config.safety_rules),
    stage_title: plan.stageTitle,
    substate_title: plan.substateTitle,
    objective: plan.objective,
    criteria_done: describe(plan.done),
    criteria_missing: describe(plan.missing),
    // Labels only: slot values are the person's words and stay inside the markers.
    classification: input.classification.labels.length > 0 ? input.classification.labels.join(', ') : 'nothing recognised',
    options: options(config, plan, examples),
    slots: plan.slots.length === 0 ? 'none (answer {})' : plan.slots.map((s) => `"${s.name}" (${s.description})`).join(', '),
    marker,
    max_reply_chars: config.guards.max_reply_chars,
  });
}

function options(config: LlmConfig, plan: StepPlan, examples: ReadonlyMap<string | undefined, RetrievedExample[]>): string {
  const out: string[] = [];
  const shown = new Set<string | undefined>();
  plan.choices.forEach((choice, i) => {
    out.push(
      fillSlots(config.option_line, {
        number: i + 1,
        criteria: choice.criteria.length === 0 ? config.no_criteria : choice.criteria.join(', '),
        action: choice.action,
        guidance: config.actions[choice.action] ?? '',
      }),
    );
    const list = (examples.get(choice.category) ?? []).slice(0, config.examples_per_option);
    if (list.length === 0 || shown.has(choice.category)) return;
    shown.add(choice.category);
    if (config.examples_intro) out.push(config.examples_intro);
    for (const { exchange } of list) out.push(fillSlots(config.example_line, { client: oneLine(exchange.client_input), guide: oneLine(exchange.therapist_response) }));
  });
  return out.join('\n');
}

/** Earlier turns as chat messages, grouped so that trimming drops whole turns. */
function conversationTurns(history: readonly HistoryEntry[], wrap: (text: string) => string): ChatMessage[][] {
  const turns: ChatMessage[][] = [];
  let pending: ChatMessage[] = [];
  for (const entry of history) {
    if (entry.role === 'user') pending.push({ role: 'user', content: wrap(entry.text) });
    else if (entry.role === 'bot') {
      // Earlier replies can quote the person's words (offline lines fill slots): defused too.
      if (!NOT_CONVERSATION.test(entry.action ?? '')) turns.push([...pending, { role: 'assistant', content: defuse(entry.text) }]);
      pending = []; // a crisis or command turn leaves nothing behind, the person's words included
    }
  }
  return turns;
}

/** Marker look-alikes in the person's text become harmless angle quotes. */
function defuse(text: string): string {
  return text.replace(/<<</g, '‹‹‹').replace(/>>>/g, '›››');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
