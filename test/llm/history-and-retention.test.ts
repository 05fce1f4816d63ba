/**
 * Regressions found in review:
 * 1. The LLM responder is the first responder with historyWindow > 0, so every LLM turn now
 *    reads history, outside any try: one entry that cannot be read (a record sealed with a key
 *    no longer configured, a damaged entry) makes EVERY turn of that session "unavailable",
 *    while a retrieval failure only costs the examples. The turn should answer without history.
 * 2. The completion cache's TTL (up to 30 days) is not bounded by SESSION_TTL_DAYS: answers
 *    (health data) outlive the configured retention of the session they belong to.
 */
import { describe, expect, it } from 'vitest';
import { MemorySessionStore, loadSettings } from '../../src/index.js';
import { llmEngine, plainModel, useFakeOpenAi } from './llm-helpers.js';

const { fake, url } = useFakeOpenAi();

class UnreadableHistoryStore extends MemorySessionStore {
  override async history(): Promise<never> {
    throw new Error('cannot decrypt a record with key id abc: set HISTORY_ENCRYPTION_KEY_PREVIOUS to the old key');
  }
}

describe('history read failures', () => {
  it('an unreadable history costs the history, not the turn', async () => {
    const store = new UnreadableHistoryStore({ historyMax: 200 });
    const { engine } = await llmEngine({ baseURL: url(), store });
    fake.chatHandler = plainModel('Welcome. What would you like to feel instead?');
    const r = await engine.handleTurn({ sessionId: 'console:rev-history', userId: 'u', platform: 'console', text: 'hello' });
    expect(r.kind).toBe('reply');
    expect(r.outcome).toBe('answered');
  });
});

describe('completion cache retention', () => {
  it('LLM_CACHE_TTL_SECONDS longer than SESSION_TTL_DAYS is refused (or capped)', () => {
    let settings: ReturnType<typeof loadSettings> | undefined;
    let error: unknown;
    try {
      settings = loadSettings({ REDIS_URL: 'redis://localhost:6379', OPENAI_BASE_URL: 'http://localhost:1/v1', SESSION_TTL_DAYS: '1', LLM_CACHE_TTL_SECONDS: String(30 * 86_400) });
    } catch (err) {
      error = err;
    }
    if (settings) expect(settings.LLM_CACHE_TTL_SECONDS).toBeLessThanOrEqual(settings.SESSION_TTL_DAYS * 86_400);
    else expect(String(error)).toMatch(/LLM_CACHE_TTL_SECONDS/);
  });
});
