/**
 * The LLM responder. One reply, top to bottom:
 *
 *   prompt (options with their examples, history within the token budget) -> cache?
 *     -> LLM budget (shared tokens/min) -> completion (streamed into previews)
 *     -> JSON + zod + the navigator's choices -> reply guards -> cache
 *
 * Any failure on the way (timeout, 429, 5xx, malformed or off-schema JSON, a
 * banned phrase, no budget left) gives the offline line for the navigator's own
 * action instead, and an event with the reason: the person never meets silence.
 */
import type OpenAI from 'openai';
import type { LlmConfig } from '../../config/schemas.js';
import type { Logger } from '../../util/logger.js';
import type { OfflineResponder } from '../offline-responder.js';
import type { Responder, ResponderInput, ResponderOutput, StepPlan } from '../responder.js';
import { requestHash, type CompletionCache } from './completion-cache.js';
import { CompletionFailure, complete, type Completion } from './completion.js';
import type { LlmEvent } from './llm-event.js';
import { ReplyGuards } from './guards.js';
import { PromptTooLargeError, buildPrompt, type BuiltPrompt } from './prompt.js';
import { downNotice, type LlmReachability, type Reachability } from './reachability.js';
import { checkReply, replyResponseFormat } from './reply-format.js';
import { ReplyStream } from './reply-stream.js';
import type { TokenCounter } from './tokens.js';

export type { LlmEvent } from './llm-event.js';

export interface LlmResponderOptions {
  client: OpenAI;
  model: string;
  config: LlmConfig;
  offline: OfflineResponder;
  tokens: TokenCounter;
  /** The model's context window, in tokens. */
  contextTokens: number;
  /** Longest a person waits for the model (retries included) before the offline line. */
  timeoutMs: number;
  stream: boolean;
  responseFormat: 'json_schema' | 'json_object';
  /** History entries read per turn (the token budget then trims them). */
  historyWindow: number;
  /** The shared LLM token budget; a refusal means the offline line. */
  budget?: { spendTokens(tokens: number): Promise<{ allowed: boolean }> } | undefined;
  cache?: CompletionCache | undefined;
  logger: Logger;
  onEvent?: ((event: LlmEvent) => void) | undefined;
  /** Whether the server answers; without it every turn tries the model. */
  reachability?: LlmReachability | undefined;
}

export class LlmResponder implements Responder {
  private readonly label: string;
  readonly historyWindow: number;
  readonly judgesCriteria = true;
  /** Guards compiled once per prompt config (overrides may bring their own). */
  private readonly guards = new WeakMap<LlmConfig, ReplyGuards>();

  constructor(private readonly o: LlmResponderOptions) {
    this.label = `llm (${o.model}${o.stream ? ', streamed' : ''})`;
    this.historyWindow = o.historyWindow;
  }

  /** For the banner: the model, or that the server is down and the offline responder answers. */
  get name(): string {
    const r = this.o.reachability;
    return (r && downNotice(r.state, r.url)) ?? this.label;
  }

  /** Asks the server whether it answers (the start-up probe); without a reachability, assumes it does. */
  async probe(): Promise<Reachability> {
    return this.o.reachability ? this.o.reachability.probe() : { state: 'ok' };
  }

  private guardsFor(config: LlmConfig): ReplyGuards {
    let g = this.guards.get(config);
    if (!g) this.guards.set(config, (g = new ReplyGuards(config.guards)));
    return g;
  }

  usesExamples(): boolean {
    return true;
  }

  async respond(input: ResponderInput): Promise<ResponderOutput> {
    const started = performance.now();
    const plan = input.plan;
    const config = input.llm ?? this.o.config;
    const guards = this.guardsFor(config);
    let streamed = false;
    let prompt: BuiltPrompt | undefined;
    let completion: Completion | undefined;
    // The server did not answer the last probe: the offline line at once, no wait, no warning a turn.
    if (this.o.reachability && !this.o.reachability.usable()) {
      this.event({ outcome: 'fallback', reason: 'unreachable', latencyMs: performance.now() - started, streamed: false });
      return { text: this.o.offline.line(input), source: 'offline' };
    }
    try {
      if (!plan) throw new CompletionFailure('error', 'no plan');
      prompt = buildPrompt({ config, input: { ...input, plan }, tokens: this.o.tokens, contextTokens: this.o.contextTokens });
      const request = {
        model: this.o.model,
        messages: prompt.messages,
        maxTokens: prompt.replyTokens,
        temperature: config.temperature,
        responseFormat: replyResponseFormat(plan, this.o.responseFormat),
      };
      const hash = this.o.cache ? requestHash(request) : '';
      const cached = this.o.cache ? await this.o.cache.get(input.sessionId, hash).catch(() => undefined) : undefined;
      if (cached !== undefined) {
        const out = this.accept(cached, plan, input.text, guards);
        this.event({ outcome: out.risk ? 'risk' : 'cached', latencyMs: performance.now() - started, streamed: false });
        return out;
      }
      const spend = await this.o.budget?.spendTokens(prompt.promptTokens + prompt.replyTokens);
      if (spend && !spend.allowed) throw new CompletionFailure('budget');

      const stream = this.o.stream && input.onText ? new ReplyStream(plan, input.text, guards, input.onText) : undefined;
      streamed = stream !== undefined;
      completion = await complete(this.o.client, request, {
        deadlineMs: this.o.timeoutMs,
        signal: input.signal,
        ...(stream ? { onContent: (snapshot: string) => stream.push(snapshot) } : {}),
      });
      const out = this.accept(completion.content, plan, input.text, guards);
      if (this.o.cache) await this.o.cache.set(input.sessionId, hash, completion.content).catch((err: unknown) => this.o.logger.warn({ sessionId: input.sessionId, err: (err as Error).name }, 'LLM cache write failed'));
      this.event({ outcome: out.risk ? 'risk' : 'ok', latencyMs: performance.now() - started, promptTokens: completion.promptTokens ?? prompt.promptTokens, completionTokens: completion.completionTokens, streamed });
      return out;
    } catch (err) {
      const failure = err instanceof CompletionFailure ? err : err instanceof PromptTooLargeError ? new CompletionFailure('context') : new CompletionFailure('error', (err as Error)?.name);
      this.event({
        outcome: 'fallback',
        reason: failure.reason,
        rule: failure.reason === 'guard' ? failure.detail : undefined,
        latencyMs: performance.now() - started,
        promptTokens: completion?.promptTokens ?? prompt?.promptTokens,
        completionTokens: completion?.completionTokens,
        streamed,
      });
      this.o.logger.warn({ sessionId: input.sessionId, reason: failure.reason, detail: failure.detail }, 'LLM reply not used; the offline line stands in');
      // The navigator's own action (as if the model judged nothing), in the offline responder's words.
      return { text: this.o.offline.line(input), source: 'offline' };
    }
  }

  /** A complete answer: valid JSON for one of the navigator's choices, past every guard. */
  private accept(content: string, plan: StepPlan, message: string, guards: ReplyGuards): ResponderOutput {
    const checked = checkReply(content, plan, message, (reply) => guards.escalates(reply));
    if (!checked.ok) throw new CompletionFailure(checked.reason);
    // The model saw a risk the crisis check missed, or wrote about crisis resources itself:
    // either way the person gets the fixed crisis response, never the model's words.
    if (checked.value.risk) return { text: '', source: 'llm', risk: true };
    const guard = guards.check(checked.value.reply);
    if (!guard.ok) throw new CompletionFailure('guard', guard.reason);
    return { text: checked.value.reply, source: 'llm', criteriaMet: checked.value.criteria, quotes: checked.value.quotes, action: checked.value.action };
  }

  private event(e: LlmEvent): void {
    try {
      this.o.onEvent?.(e);
    } catch {
      // metrics never break a turn
    }
  }
}
