/**
 * What the LLM responder itself costs per turn, apart from the model: building
 * the prompt (options, examples, history trimmed with the tokenizer), checking
 * the answer, and the streaming parser. Measured through the real engine and
 * `openai` client against the local OpenAI-compatible test server answering at
 * once, next to the offline responder on the same turns.
 */
import { Engine, MemorySessionStore, createLlmResponder, loadSettings, silentLogger, type EngineConfig, type FaissRetriever } from '../../src/index.js';
import { FakeOpenAi, type ChatRequestLog } from '../../test/fakes/openai-server.js';
import { percentile } from './synthetic.js';

export interface LlmFigures {
  turns: number;
  offline: { p50ms: number; p99ms: number };
  llm: { p50ms: number; p99ms: number };
  llmStreamed: { p50ms: number; p99ms: number };
  /** Prompt tokens sent with a 200-turn history (what the budget let through). */
  promptTokensLongHistory: number;
  historyTurnsSent: number;
}

const TEXTS = ['I want to feel calm', 'yes that sounds right', 'ok go on', 'that makes sense', 'work deadlines mostly', 'in my chest', 'tight', 'yes I can feel it now'];

export async function benchLlm(config: EngineConfig, retriever: FaissRetriever, turns = 400): Promise<LlmFigures> {
  const fake = new FakeOpenAi();
  const baseURL = await fake.start();
  // Answers for the navigator's own step, like a model that judges nothing new met.
  fake.chatHandler = (req: ChatRequestLog) => {
    const action = (req.responseFormat as { json_schema: { schema: { properties: { action: { enum: string[] } } } } }).json_schema.schema.properties.action.enum[0];
    return { content: JSON.stringify({ risk: false, criteria_met: [], action, reply: 'Thank you for saying that. Let us stay with it for a moment. What do you notice now?' }), chunkChars: 12 };
  };
  const engineWith = async (env: Record<string, string> | undefined) => {
    const store = new MemorySessionStore({ historyMax: 1000 });
    const responder = env ? await createLlmResponder(loadSettings({ OPENAI_BASE_URL: baseURL, HISTORY_MAX: '1000', ...env }), config, { logger: silentLogger }) : undefined;
    return { store, engine: new Engine({ config, store, retriever, ...(responder ? { responder } : {}) }) };
  };
  const run = async (engine: Engine, stream: boolean) => {
    const times: number[] = [];
    for (let i = 0; i < turns; i++) {
      const t = performance.now();
      await engine.handleTurn(
        { sessionId: `console:bench-${i % 20}`, userId: 'u', platform: 'console', text: TEXTS[i % TEXTS.length]! },
        stream ? { preview: () => undefined, deliver: async () => true } : {},
      );
      times.push(performance.now() - t);
    }
    return { p50ms: round(percentile(times, 0.5)), p99ms: round(percentile(times, 0.99)) };
  };
  const offline = await run((await engineWith(undefined)).engine, false);
  const llm = await run((await engineWith({ LLM_STREAM: 'false' })).engine, false);
  const llmStreamed = await run((await engineWith({ LLM_STREAM: 'true' })).engine, true);

  // One turn after a 200-turn history.
  const long = await engineWith({ LLM_STREAM: 'false' });
  await long.engine.handleTurn({ sessionId: 'console:long', userId: 'u', platform: 'console', text: 'hello' });
  const at = new Date().toISOString();
  for (let i = 0; i < 200; i++) {
    await long.store.annotate('console:long', { role: 'user', text: `turn ${i}: my shoulders feel tight and heavy again today`, at });
    await long.store.annotate('console:long', { role: 'bot', text: `reply ${i}: that tight feeling in your shoulders, can you feel it now?`, at, action: 'ask_felt_now' });
  }
  await long.engine.handleTurn({ sessionId: 'console:long', userId: 'u', platform: 'console', text: 'still there' });
  const req = fake.lastChat()!;
  const { countTokens } = await import('gpt-tokenizer/encoding/o200k_base');
  const messages = req.messages as Array<{ role: string; content: string }>;
  await fake.stop();
  return {
    turns,
    offline,
    llm,
    llmStreamed,
    promptTokensLongHistory: messages.reduce((sum, m) => sum + countTokens(m.content) + 4, 3),
    historyTurnsSent: messages.filter((m) => m.role === 'assistant').length,
  };
}

const round = (n: number) => Math.round(n * 100) / 100;
