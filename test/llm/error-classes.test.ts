/**
 * Regression (found in review): a proxy's HTML error page served with 200 and content-type text/html (the usual
 * case; the existing test serves it as application/json). The SDK then returns the body as a
 * string, `res.choices[0]` throws a TypeError and the fallback is counted as "error", not
 * "malformed" as the table in docs/llm.md (Guards and fallbacks) says.
 */
import { describe, expect, it } from 'vitest';
import { llmEngine, useFakeOpenAi } from './llm-helpers.js';

const { fake, url } = useFakeOpenAi();

describe('error classification', () => {
  it('an HTML page (text/html) instead of the JSON body is "malformed"', async () => {
    const { engine, counters } = await llmEngine({ baseURL: url() });
    fake.chat = [{ raw: '<html><body>502 Bad Gateway</body></html>', contentType: 'text/html' }];
    const r = await engine.handleTurn({ sessionId: 'console:rev-html', userId: 'u', platform: 'console', text: 'hello' });
    expect(r.reply).toBeTruthy();
    expect(Object.fromEntries(counters.llmFallbacks)).toEqual({ malformed: 1 });
  });
});
