/** Wiring for LLM tests: the real engine and `openai` client against the local fake server. */
import { Engine, MemorySessionStore, TurnCounters, createLlmResponder, loadSettings, silentLogger, type EngineConfig, type Retriever, type SessionStore } from '../../src/index.js';
import type { CompletionCache } from '../../src/responder/llm/completion-cache.js';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { FakeOpenAi, type ChatRequestLog, type ChatScript } from '../fakes/openai-server.js';
import { repoConfig, repoRetriever } from '../helpers.js';

/**
 * A local OpenAI-compatible server for this test file: started before its tests, stopped
 * after, its scripts and request logs (chat and moderation) cleared after each test. `url()` is its base URL.
 */
export function useFakeOpenAi(): { fake: FakeOpenAi; url: () => string } {
  const fake = new FakeOpenAi();
  const defaultChat = fake.defaultChat;
  const defaultModeration = fake.defaultModeration;
  let base = '';
  beforeAll(async () => {
    base = await fake.start();
  });
  afterAll(() => fake.stop());
  afterEach(() => {
    fake.chat = [];
    fake.chatHandler = undefined;
    fake.defaultChat = defaultChat;
    fake.chatRequests.length = 0;
    fake.moderation = [];
    fake.defaultModeration = defaultModeration;
    fake.moderationHandler = undefined;
    fake.moderationRequests.length = 0;
  });
  return { fake, url: () => base };
}

export interface LlmEngineOptions {
  baseURL: string;
  env?: Record<string, string>;
  store?: SessionStore;
  budget?: { spendTokens(tokens: number): Promise<{ allowed: boolean }> };
  cache?: CompletionCache;
  retriever?: Retriever;
  /** The config turns run on (e.g. with flags switched); default: the repository's. */
  config?: EngineConfig;
}

export async function llmEngine(o: LlmEngineOptions) {
  const settings = loadSettings({ OPENAI_BASE_URL: o.baseURL, OPENAI_TIMEOUT_SECONDS: '3', ...o.env });
  const counters = new TurnCounters();
  const events: Array<Parameters<NonNullable<TurnCounters['llm']>>[0]> = [];
  const responder = await createLlmResponder(settings, repoConfig(), {
    logger: silentLogger,
    budget: o.budget,
    cache: o.cache,
    onEvent: (e) => {
      events.push(e);
      counters.llm(e);
    },
  });
  if (!responder) throw new Error('expected the LLM responder');
  const store = o.store ?? new MemorySessionStore({ historyMax: settings.HISTORY_MAX });
  const config = o.config ?? repoConfig();
  const engine = new Engine({ config, store, retriever: o.retriever ?? repoRetriever(), responder, observer: counters });
  return { engine, store, counters, events, responder };
}

/** The JSON schema the request carried (the navigator's choices for this turn). */
export function choicesOf(req: ChatRequestLog): { actions: string[]; criteria: string[] } {
  const schema = (req.responseFormat as { json_schema?: { schema: { properties: { action: { enum: string[] }; criteria_met: { items: { enum?: string[] } } } } } }).json_schema!.schema;
  return { actions: schema.properties.action.enum, criteria: schema.properties.criteria_met.items.enum ?? [] };
}

/** A model that judges nothing met and writes `reply` for the navigator's own step. */
export function plainModel(reply: string, extra: Partial<Extract<ChatScript, { content: string }>> = {}) {
  return (req: ChatRequestLog): ChatScript => ({ content: JSON.stringify({ risk: false, criteria_met: [], action: choicesOf(req).actions[0], reply }), ...extra });
}

export function systemOf(req: ChatRequestLog): string {
  return (req.messages[0] as { content: string }).content;
}

export function userMessages(req: ChatRequestLog): string[] {
  return (req.messages as Array<{ role: string; content: string }>).filter((m) => m.role === 'user').map((m) => m.content);
}
