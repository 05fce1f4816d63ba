/**
 * Moderation in the turn: the real engine, the real `openai` client and OpenAiModeration
 * against the local fake server. Moderation runs beside the turn and is awaited only before
 * a conversational reply is shown; the offline check decides first and alone on failure.
 */
import { describe, expect, it } from 'vitest';
import { Engine, MemorySessionStore, TurnCounters, loadSettings } from '../../src/index.js';
import { createOpenAiClient } from '../../src/responder/create-responder.js';
import { OpenAiModeration } from '../../src/safety/moderation.js';
import { llmEngine, plainModel, useFakeOpenAi } from '../llm/llm-helpers.js';
import { repoConfig, repoRetriever } from '../helpers.js';
import { answered } from '../turn-results.js';

const { fake, url } = useFakeOpenAi();
const config = repoConfig();
const turn = (text: string, sessionId = 'console:mod') => ({ sessionId, userId: 'u1', platform: 'console', text });

function offlineEngineWithModeration(timeoutMs = 300) {
  const client = createOpenAiClient(loadSettings({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: url() }));
  const counters = new TurnCounters();
  const engine = new Engine({ config, store: new MemorySessionStore(), retriever: repoRetriever(), observer: counters, moderation: new OpenAiModeration({ client, timeoutMs }) });
  return { engine, counters };
}

// An ordinary-sounding message the offline check passes: moderation is the only one to see a risk in it.
const QUIET = 'I sorted out my paperwork this morning';

describe('moderation as a further opinion in the turn', () => {
  it('flagged: the fixed crisis response and the safety state, though the offline check passed the message', async () => {
    const { engine, counters } = offlineEngineWithModeration();
    expect(engine.crisis.assess(QUIET)).toMatchObject({ risk: null });
    fake.moderation = [{ flag: ['self-harm', 'self-harm/intent'] }];
    const r = await engine.handleTurn(turn(QUIET));
    expect(r.kind).toBe('crisis');
    expect(r.reply).toContain(config.safety.response);
    expect(counters.crisisReferrals).toBe(1);
    expect(fake.moderationRequests.map((q) => q.input)).toEqual([QUIET]);
    // The safety state holds: the next ordinary message is not the normal flow, and is not sent to moderation.
    expect((await engine.handleTurn(turn('ok'))).kind).toBe('safety');
    expect((await engine.handleTurn(turn('help'))).kind).toBe('command');
    expect(fake.moderationRequests).toHaveLength(1);
  });

  it.each([
    ['not flagged', () => (fake.moderation = [{ flag: [] }])],
    ['a 500', () => (fake.moderation = [{ status: 500 }])],
    ['a server that never answers', () => (fake.moderation = [{ hang: true }])],
  ])('%s: the offline result stands and the person is answered', async (name, script) => {
    const { engine } = offlineEngineWithModeration(300);
    script();
    const r = await engine.handleTurn(turn('hello'));
    expect(r.kind).toBe('reply');
    expect(answered(r).action).toBe('ask_goal');
    // Moderation was asked, and a server that never answers was cut off by its deadline, not waited for.
    expect(fake.moderationRequests).toHaveLength(1);
    if (name.includes('never answers')) {
      await fake.moderationRequests[0]!.closed;
      expect(fake.moderationRequests[0]!.abandoned).toBe(true);
    }
  });

  it('a risk the offline check finds gets the crisis response without waiting for moderation', async () => {
    const { engine } = offlineEngineWithModeration(10_000);
    fake.moderation = [{ hang: true }];
    const r = await engine.handleTurn(turn('I want to kill myself'));
    expect(r.kind).toBe('crisis');
    expect(fake.moderationRequests).toHaveLength(0);
  });

  it('with a streamed LLM reply: nothing is previewed before moderation answers, and nothing at all when it flags', async () => {
    const { responder } = await llmEngine({ baseURL: url() });
    const client = createOpenAiClient(loadSettings({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: url() }));
    const engine = new Engine({ config, store: new MemorySessionStore(), retriever: repoRetriever(), responder, moderation: new OpenAiModeration({ client, timeoutMs: 2_000 }) });
    fake.chatHandler = plainModel('Thank you for being here. Let us start simply. What would you like to feel instead?', { chunkChars: 6, chunkDelayMs: 2 });
    fake.moderation = [{ flag: ['self-harm', 'self-harm/intent'] }];
    const previews: string[] = [];
    const delivered: string[] = [];
    const r = await engine.handleTurn(turn(QUIET, 'console:stream'), { preview: (t) => previews.push(t), deliver: async (t) => void delivered.push(t) });
    expect(r.kind).toBe('crisis');
    expect(previews).toEqual([]);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toContain(config.safety.response);
  });
});

describe('the check-in and the LLM', () => {
  it('a check-in turn and its answer never reach the model, then or later in the history', async () => {
    const { engine } = await llmEngine({ baseURL: url() });
    fake.chatHandler = plainModel('What would you like to feel instead?');
    const id = 'console:checkin-llm';
    const say = (text: string) => engine.handleTurn(turn(text, id));
    expect((await say('i just want to disappear')).kind).toBe('check_in');
    expect((await say('no, nothing like that, just tired')).kind).toBe('safety');
    expect(fake.chatRequests).toHaveLength(0);
    await say('I would like to feel calm');
    expect(fake.chatRequests).toHaveLength(1);
    const sent = JSON.stringify(fake.chatRequests[0]);
    expect(sent).not.toContain('disappear');
    expect(sent).not.toContain('just tired');
    expect(sent).not.toContain(config.safety.check_in.message.slice(0, 40));
  });
});
