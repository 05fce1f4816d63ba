/**
 * One chat completion through the `openai` client, streamed or not, with every
 * way it can fail turned into a named reason (for the fallback and its metric).
 * The client retries 429 and 5xx itself (OPENAI_MAX_RETRIES, honouring
 * Retry-After); `deadlineMs` bounds the whole call, retries and a stalled stream
 * included, so a person waits at most that long before the offline line.
 */
import OpenAI from 'openai';
import type { ChatMessage } from './prompt.js';
import { raced } from '../../util/raced.js';
import type { FailureReason } from './llm-event.js';

export type { FailureReason } from './llm-event.js';

export class CompletionFailure extends Error {
  readonly code = 'LLM_FAILED';
  constructor(readonly reason: FailureReason, readonly detail?: string) {
    super(`LLM completion failed: ${reason}${detail ? ` (${detail})` : ''}`);
  }
}

export interface CompletionRequest {
  model: string;
  messages: ChatMessage[];
  maxTokens: number;
  temperature: number;
  responseFormat: unknown;
}

export interface Completion {
  content: string;
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  streamed: boolean;
}

export interface CompleteOptions {
  deadlineMs: number;
  /** The turn's own abort (handed to another worker). */
  signal?: AbortSignal | undefined;
  /** Streaming: called with the whole content so far after each chunk. */
  onContent?: (snapshot: string) => void;
}

export async function complete(client: OpenAI, request: CompletionRequest, opts: CompleteOptions): Promise<Completion> {
  const deadline = AbortSignal.timeout(opts.deadlineMs);
  const signal = opts.signal ? AbortSignal.any([deadline, opts.signal]) : deadline;
  const body = {
    model: request.model,
    messages: request.messages,
    max_tokens: request.maxTokens,
    temperature: request.temperature,
    response_format: request.responseFormat as OpenAI.ChatCompletionCreateParams['response_format'],
  };
  try {
    if (!opts.onContent) {
      const res = await raced(client.chat.completions.create({ ...body, stream: false }, { signal }), signal);
      // A proxy's HTML page arrives as a string, not the protocol's object.
      const choice = typeof res === 'object' && Array.isArray(res?.choices) ? res.choices[0] : undefined;
      if (!choice) throw new CompletionFailure('malformed', 'no choices');
      finished(choice.finish_reason, choice.message.refusal);
      return { content: choice.message.content ?? '', promptTokens: res.usage?.prompt_tokens, completionTokens: res.usage?.completion_tokens, streamed: false };
    }
    const stream = await raced(client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } }, { signal }), signal);
    let content = '';
    let refusal = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | undefined;
    const chunks = stream[Symbol.asyncIterator]();
    for (;;) {
      const next = await raced(chunks.next(), signal);
      if (next.done) break;
      const chunk = next.value;
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      if (choice.delta?.refusal) refusal += choice.delta.refusal;
      if (choice.finish_reason) finish = choice.finish_reason;
      if (choice.delta?.content) {
        content += choice.delta.content;
        opts.onContent(content);
      }
    }
    // An aborted stream may just end: the deadline (or the turn) is the reason, not the broken JSON.
    if (signal.aborted) throw new CompletionFailure(opts.signal?.aborted ? 'aborted' : 'timeout');
    finished(finish ?? 'stop', refusal || null);
    return { content, promptTokens: usage?.prompt_tokens, completionTokens: usage?.completion_tokens, streamed: true };
  } catch (err) {
    throw failure(err, deadline, opts.signal);
  }
}


function finished(reason: string | null | undefined, refusal: string | null | undefined): void {
  if (refusal) throw new CompletionFailure('refused');
  if (reason === 'length') throw new CompletionFailure('truncated');
  if (reason === 'content_filter') throw new CompletionFailure('refused', 'content filter');
}

function failure(err: unknown, deadline: AbortSignal, turn: AbortSignal | undefined): CompletionFailure {
  if (err instanceof CompletionFailure) return err;
  if (turn?.aborted) return new CompletionFailure('aborted');
  if (deadline.aborted || err instanceof OpenAI.APIConnectionTimeoutError) return new CompletionFailure('timeout');
  if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
    if (err.status === 429) return new CompletionFailure('rate_limited');
    if (err.status >= 500) return new CompletionFailure('server_error', String(err.status));
    return new CompletionFailure('http_error', String(err.status));
  }
  if (err instanceof OpenAI.APIConnectionError) return new CompletionFailure('connection');
  // A body that is not the protocol's JSON (a proxy's HTML page, a broken SSE line).
  if (err instanceof SyntaxError) return new CompletionFailure('malformed');
  return new CompletionFailure('error', (err as Error)?.name);
}
