/**
 * Regression (found in review): OPENAI_TIMEOUT_SECONDS is documented as bounding the whole call, retries included
 * ("honouring Retry-After, within the timeout"). The openai SDK (v6) sleeps for the full
 * Retry-After between attempts with a plain setTimeout that ignores the abort signal, so a
 * 429 with a long Retry-After holds the turn (and its session lock) far past the deadline.
 */
import { describe, expect, it } from 'vitest';
import { llmEngine, plainModel, useFakeOpenAi } from './llm-helpers.js';

const { fake, url } = useFakeOpenAi();

describe('the deadline bounds the whole call', () => {
  it('a 429 asking to retry after 6 s still gives the offline line within OPENAI_TIMEOUT_SECONDS=1', async () => {
    const { engine, counters } = await llmEngine({ baseURL: url(), env: { OPENAI_TIMEOUT_SECONDS: '1' } });
    fake.chat = [{ status: 429, retryAfter: '6' }];
    fake.chatHandler = undefined;
    fake.defaultChat = { content: '{}' };
    const started = Date.now();
    const r = await engine.handleTurn({ sessionId: 'console:rev-retry-after', userId: 'u', platform: 'console', text: 'hello' });
    const elapsed = Date.now() - started;
    expect(r.reply).toBeTruthy();
    expect(counters.llmFallbacks.get('timeout') ?? counters.llmFallbacks.get('rate_limited')).toBe(1);
    // Documented: "no complete answer within OPENAI_TIMEOUT_SECONDS (retries ... included)".
    expect(elapsed).toBeLessThan(2_000);
  });

  it('the same with Retry-After in milliseconds (retry-after-ms: 6000)', async () => {
    const { engine } = await llmEngine({ baseURL: url(), env: { OPENAI_TIMEOUT_SECONDS: '1' } });
    let calls = 0;
    const model = plainModel('Hello. What would you like to feel instead?');
    fake.chatHandler = (req) => (calls++ === 0 ? { status: 429, retryAfterMs: '6000' } : model(req));
    const started = Date.now();
    await engine.handleTurn({ sessionId: 'console:rev-retry-after-ms', userId: 'u', platform: 'console', text: 'hello' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
