/**
 * Turns answered by an LLM: the real engine and the real `openai` client against
 * a local OpenAI-compatible server (test/fakes), normal and streamed, and every
 * failure the person must not notice beyond getting the offline line.
 */
import { describe, expect, it } from 'vitest';
import { MemoryRateLimits, type TurnInput } from '../../src/index.js';
import { repoConfig } from '../helpers.js';
import { choicesOf, llmEngine, plainModel, useFakeOpenAi } from './llm-helpers.js';
import { answered } from '../turn-results.js';

const { fake, url } = useFakeOpenAi();

const offlineLines = (action: string) => repoConfig().responses.actions[action]!;
let n = 0;
const turn = (text: string, sessionId = `console:llm-${++n}`): TurnInput => ({ sessionId, userId: 'u', platform: 'console', text });

describe('LLM replies', () => {
  it('answers with the model reply, after the disclosure, and counts it', async () => {
    const { engine, counters } = await llmEngine({ baseURL: url() });
    fake.chatHandler = plainModel('Welcome. What would you like to feel instead?');
    const r = await engine.handleTurn(turn('hello'));
    expect(r.reply).toBe(`${repoConfig().responses.disclosure}\n\nWelcome. What would you like to feel instead?`);
    expect(answered(r).action).toBe('ask_goal');
    expect(counters.llmReplies).toBe(1);
    const req = fake.lastChat()!;
    expect(req.model).toBe('gpt-4o-mini');
    expect(req.maxTokens).toBe(repoConfig().llm.budget.reply_tokens);
    expect(req.stream).toBe(false); // nobody to stream to: no preview hook
  });

  it('lets the navigator move on when the model judges a criterion the phrase matcher missed', async () => {
    const { engine, store } = await llmEngine({ baseURL: url() });
    // "lighter" is no goal phrase: without the model this asks for the goal again.
    fake.chatHandler = (req) => {
      expect(choicesOf(req)).toEqual({ actions: ['ask_goal', 'present_vision'], criteria: ['goal_stated'] });
      return { content: JSON.stringify({ risk: false, criteria_met: ['goal_stated'], slots: { desired_feeling: 'just lighter' }, action: 'present_vision', reply: 'Lighter. Picture a future you who already feels lighter: does that fit?' }) };
    };
    const id = `console:llm-${++n}`;
    const r = await engine.handleTurn(turn('honestly just lighter, like a weight is off', id));
    expect(answered(r).action).toBe('present_vision');
    expect(answered(r).substate).toBe('1.2_vision');
    expect(r.reply).toContain('Picture a future you');
    // The goal is the words the model quoted: an offline line later quotes them.
    fake.chatHandler = () => ({ status: 400 });
    const next = await engine.handleTurn(turn('what do you mean', id));
    expect(next.reply).not.toContain('weight is off');
    expect(JSON.stringify(await store.history(id))).toContain('just lighter');
  });

  it('refuses a reply written for a step the navigator would not take, and uses the offline line', async () => {
    const { engine, counters } = await llmEngine({ baseURL: url() });
    fake.chatHandler = () => ({ content: JSON.stringify({ risk: false, criteria_met: [], action: 'present_vision', reply: 'Imagine the future you!' }) });
    const r = await engine.handleTurn(turn('hello'));
    expect(answered(r).substate).toBe('1.1_goal');
    expect(offlineLines('ask_goal')).toContain(r.reply!.split('\n\n')[1]);
    expect(counters.llmFallbacks.get('wrong_step')).toBe(1);
  });

  it('streams the reply sentence by sentence to the preview hook; the final reply is delivered once', async () => {
    const { engine, counters } = await llmEngine({ baseURL: url() });
    const reply = 'Thank you for being here. Let us start simply. What would you like to feel instead?';
    fake.chatHandler = plainModel(reply, { chunkChars: 6, chunkDelayMs: 5 });
    const previews: string[] = [];
    const delivered: string[] = [];
    const r = await engine.handleTurn(turn('hi'), {
      preview: (t) => previews.push(t),
      deliver: async (t) => {
        delivered.push(t);
        return true;
      },
    });
    expect(fake.lastChat()!.stream).toBe(true);
    const disclosure = `${repoConfig().responses.disclosure}\n\n`;
    expect(previews).toEqual([`${disclosure}Thank you for being here.`, `${disclosure}Thank you for being here. Let us start simply.`]);
    expect(delivered).toEqual([`${disclosure}${reply}`]);
    expect(answered(r).delivered).toBe(true);
    expect(counters.llmReplies).toBe(1);
  });

  it('retries a 429 and then uses the answer', async () => {
    const { engine, counters } = await llmEngine({ baseURL: url() });
    fake.chat = [{ status: 429, retryAfterMs: '50' }];
    fake.chatHandler = undefined;
    fake.defaultChat = { content: JSON.stringify({ risk: false, criteria_met: [], action: 'ask_goal', reply: 'After a short wait: how would you like to feel?' }) };
    const r = await engine.handleTurn(turn('hello'));
    expect(r.reply).toContain('After a short wait');
    expect(fake.chatRequests.map((q) => q.status)).toEqual([429, 200]);
    expect(counters.llmFallbacks.size).toBe(0);
  });
});

describe('feature flags (flags.json, switched per tenant or experiment arm by overrides)', () => {
  const withFlags = (flags: Record<string, boolean>) => {
    const config = structuredClone(repoConfig());
    Object.assign(config.flags.flags, flags);
    return config;
  };

  it('llm_responder=false keeps those conversations on the offline lines: the model is not asked', async () => {
    const { engine } = await llmEngine({ baseURL: url(), config: withFlags({ llm_responder: false }) });
    fake.chatHandler = plainModel('unused');
    const r = await engine.handleTurn(turn('hello'));
    expect(offlineLines('ask_goal')).toContain(r.reply!.split('\n\n')[1]);
    expect(fake.chatRequests).toHaveLength(0);
  });

  it('llm_streaming=false delivers the whole reply without previews', async () => {
    const { engine } = await llmEngine({ baseURL: url(), config: withFlags({ llm_streaming: false }) });
    fake.chatHandler = plainModel('One sentence. Another sentence. A question?', { chunkChars: 4 });
    const previews: string[] = [];
    const r = await engine.handleTurn(turn('hello'), { preview: (t) => previews.push(t), deliver: async () => true });
    expect(previews).toEqual([]);
    expect(r.reply).toContain('A question?');
    expect(fake.lastChat()!.stream).toBe(false);
  });
});

describe('LLM failures: the person still gets a reply', () => {
  const cases: Array<{ name: string; script: () => void; reason: string; requests?: number; timeout?: number }> = [
    { name: 'a hung server (timeout)', script: () => (fake.chat = [{ hang: true }]), reason: 'timeout', requests: 1, timeout: 1 },
    { name: '429 on every try', script: () => (fake.chat = [0, 1, 2].map(() => ({ status: 429 as const, retryAfterMs: '10' }))), reason: 'rate_limited', requests: 3 },
    { name: '503 on every try', script: () => (fake.chat = [0, 1, 2].map(() => ({ status: 503 as const }))), reason: 'server_error', requests: 3 },
    { name: 'a body that is not JSON', script: () => (fake.chat = [{ raw: '<html>bad gateway</html>' }]), reason: 'malformed' },
    { name: 'a reply that is not JSON', script: () => (fake.chat = [{ content: 'Sure! How would you like to feel?' }]), reason: 'malformed' },
    { name: 'JSON off the schema', script: () => (fake.chat = [{ content: JSON.stringify({ criteria: 'all', text: 'hi' }) }]), reason: 'schema' },
    { name: 'a cut-off answer', script: () => (fake.chat = [{ content: '{"risk":false,"criteria_met":[],"action":"ask_goal","reply":"How wou', finishReason: 'length' }]), reason: 'truncated' },
    {
      name: 'medication advice',
      script: () => (fake.chat = [{ content: JSON.stringify({ risk: false, criteria_met: [], action: 'ask_goal', reply: 'You should take melatonin. How would you like to feel?' }) }]),
      reason: 'guard',
    },
  ];
  for (const c of cases) {
    it(`${c.name}: offline line, counted as "${c.reason}"`, async () => {
      const timeout = c.timeout ?? 4;
      const { engine, counters, events } = await llmEngine({ baseURL: url(), env: { OPENAI_TIMEOUT_SECONDS: String(timeout) } });
      c.script();
      const started = Date.now();
      const r = await engine.handleTurn(turn('hello'));
      expect(r.kind).toBe('reply');
      expect(offlineLines('ask_goal')).toContain(r.reply!.split('\n\n')[1]);
      expect(counters.llmFallbacks.get(c.reason)).toBe(1);
      expect(events[0]!.outcome).toBe('fallback');
      if (c.requests) expect(fake.chatRequests).toHaveLength(c.requests);
      expect(Date.now() - started).toBeLessThan(timeout * 1000 + 500); // never much longer than the timeout
    });
  }

  it('a stream that stalls mid-way ends at the timeout; what was previewed is replaced by the offline line', async () => {
    const { engine, counters } = await llmEngine({ baseURL: url(), env: { OPENAI_TIMEOUT_SECONDS: '1' } });
    fake.chat = [{ content: JSON.stringify({ risk: false, criteria_met: [], action: 'ask_goal', reply: 'First sentence here. Second one never ends' }), chunkChars: 4, stallAfterChars: 90 }];
    const previews: string[] = [];
    let delivered = '';
    await engine.handleTurn(turn('hello'), { preview: (t) => previews.push(t), deliver: async (t) => ((delivered = t), true) });
    expect(previews.at(-1)).toContain('First sentence here.');
    expect(offlineLines('ask_goal')).toContain(delivered.split('\n\n')[1]);
    expect(Object.fromEntries(counters.llmFallbacks)).toEqual({ timeout: 1 });
  });

  it('a risk statement never reaches the model', async () => {
    const { engine } = await llmEngine({ baseURL: url() });
    fake.chatHandler = plainModel('should not be used');
    const r = await engine.handleTurn(turn('I want to kill myself'));
    expect(r.kind).toBe('crisis');
    expect(r.reply).toContain(repoConfig().safety.response);
    expect(fake.chatRequests).toHaveLength(0);
  });

  it('a risk the crisis check missed, flagged by the model: the fixed crisis response, the safety state, a referral counted', async () => {
    const { engine, counters, events } = await llmEngine({ baseURL: url() });
    const text = 'everything feels grey and far away lately';
    expect(engine.crisisResponse(text)).toBeNull(); // the offline check passes it
    fake.chat = [{ content: JSON.stringify({ risk: true, criteria_met: [], action: 'ask_goal', reply: 'model words that must not be sent' }), chunkChars: 5 }];
    const previews: string[] = [];
    const id = `console:risk-${++n}`;
    const r = await engine.handleTurn({ sessionId: id, userId: 'u', platform: 'console', text }, { preview: (t) => previews.push(t), deliver: async () => true });
    expect(r.kind).toBe('crisis');
    expect(r.reply).toContain(repoConfig().safety.response);
    expect(r.reply).not.toContain('model words');
    expect(previews).toEqual([]);
    expect(counters.crisisReferrals).toBe(1);
    expect(events.map((e) => e.outcome)).toEqual(['risk']);
    // The session is in the safety state now: the normal flow waits, the model is not asked.
    const before = fake.chatRequests.length;
    const next = await engine.handleTurn({ sessionId: id, userId: 'u', platform: 'console', text: 'I want to feel calm' });
    expect(next.kind).toBe('safety');
    expect(fake.chatRequests.length).toBe(before);
  });

  it('a reply that brings up crisis lines itself is treated as a flagged risk (the model saw one)', async () => {
    const { engine } = await llmEngine({ baseURL: url() });
    fake.chat = [{ content: JSON.stringify({ risk: false, criteria_met: [], action: 'ask_goal', reply: "I'm concerned. Please call a crisis line like 988 now." }) }];
    const text = "I feel like I'm fading";
    expect(engine.crisisResponse(text)).toBeNull();
    const r = await engine.handleTurn(turn(text));
    expect(fake.chatRequests).toHaveLength(1);
    expect(r.kind).toBe('crisis');
    expect(r.reply).toContain(repoConfig().safety.response);
  });

  it('no LLM budget left (shared tokens/min): offline line, and the model is not called', async () => {
    const limits = new MemoryRateLimits({ config: { ...repoConfig().rateLimits, llm_tokens: { points: 100, duration_s: 60 } } });
    const { engine, counters } = await llmEngine({ baseURL: url(), budget: limits });
    fake.chatHandler = plainModel('unused');
    const r = await engine.handleTurn(turn('hello'));
    expect(offlineLines('ask_goal')).toContain(r.reply!.split('\n\n')[1]);
    expect(counters.llmFallbacks.get('budget')).toBe(1);
    expect(fake.chatRequests).toHaveLength(0);
  });

  it('a context too small for the prompt: offline line, model not called', async () => {
    const { engine, counters } = await llmEngine({ baseURL: url(), env: { OPENAI_CONTEXT_TOKENS: '1024' } });
    fake.chatHandler = plainModel('unused');
    await engine.handleTurn(turn('hello'));
    expect(counters.llmFallbacks.get('context')).toBe(1);
    expect(fake.chatRequests).toHaveLength(0);
  });
});
