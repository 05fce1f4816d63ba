/**
 * Chooses the responder from settings: the LLM when one is configured
 * (RESPONDER=auto with OPENAI_API_KEY or OPENAI_BASE_URL, or RESPONDER=llm),
 * else the offline responder (returned as undefined: the engine's default).
 */
import OpenAI from 'openai';
import type { EngineConfig } from '../config/load.js';
import type { Settings } from '../config/settings.js';
import type { Logger } from '../util/logger.js';
import type { CompletionCache } from './llm/completion-cache.js';
import { LlmResponder, type LlmEvent } from './llm/llm-responder.js';
import { LlmReachability } from './llm/reachability.js';
import { loadTokenCounter } from './llm/tokens.js';
import { OfflineResponder } from './offline-responder.js';

export function wantsLlm(s: Settings): boolean {
  return s.RESPONDER === 'llm' || (s.RESPONDER === 'auto' && Boolean(s.OPENAI_API_KEY || s.OPENAI_BASE_URL));
}

export interface ResponderWiring {
  budget?: { spendTokens(tokens: number): Promise<{ allowed: boolean }> } | undefined;
  cache?: CompletionCache | undefined;
  logger: Logger;
  onEvent?: ((event: LlmEvent) => void) | undefined;
}

/**
 * The `openai` client as the responder uses it: key, base URL, OPENAI_TIMEOUT_SECONDS and
 * OPENAI_MAX_RETRIES. Other callers (moderation) share this configuration and set their own
 * timeout and retries per request.
 */
export function createOpenAiClient(s: Settings): OpenAI {
  return new OpenAI({
    // Local OpenAI-compatible servers need no key, but the client insists on one.
    apiKey: s.OPENAI_API_KEY ?? 'no-key',
    ...(s.OPENAI_BASE_URL ? { baseURL: s.OPENAI_BASE_URL } : {}),
    timeout: s.OPENAI_TIMEOUT_SECONDS * 1000,
    maxRetries: s.OPENAI_MAX_RETRIES,
  });
}

/** How long the start-up probe of the LLM server waits, and how often a server that is down is asked again. */
export const LLM_PROBE_TIMEOUT_MS = 3000;
export const LLM_REPROBE_MS = 30_000;

export async function createLlmResponder(s: Settings, config: EngineConfig, wiring: ResponderWiring): Promise<LlmResponder | undefined> {
  if (!wantsLlm(s)) return undefined;
  const timeoutMs = s.OPENAI_TIMEOUT_SECONDS * 1000;
  const client = createOpenAiClient(s);
  return new LlmResponder({
    client,
    reachability: new LlmReachability(client, { timeoutMs: Math.min(LLM_PROBE_TIMEOUT_MS, timeoutMs), reprobeMs: LLM_REPROBE_MS }),
    model: s.OPENAI_MODEL,
    config: config.llm,
    offline: new OfflineResponder(config.responses),
    tokens: await loadTokenCounter(config.llm.budget.tokenizer),
    contextTokens: s.OPENAI_CONTEXT_TOKENS,
    timeoutMs,
    stream: s.LLM_STREAM === 'true',
    responseFormat: s.OPENAI_RESPONSE_FORMAT,
    historyWindow: s.HISTORY_MAX,
    ...wiring,
  });
}
