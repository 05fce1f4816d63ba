/** What a message is once the engine has read it: escape sequences and carriage returns. */
import { describe, expect, it } from 'vitest';
import { sanitize } from '../../src/engine/input.js';
import { makeEngine } from '../helpers.js';

describe('input hygiene', () => {
  it('strips terminal escape sequences whole, not just their ESC', () => {
    expect(sanitize('calm\x1b[0m')).toBe('calm');
    expect(sanitize('\x1b[1;31mred\x1b[0m and \x1b]8;;https://x.test\x07a link\x1b]8;;\x07')).toBe('red and a link');
    expect(sanitize('\u009b31mC1 too')).toBe('C1 too');
  });

  it('reads \\r\\n as a line break and a bare \\r as a space', () => {
    expect(sanitize('one\r\ntwo')).toBe('one\ntwo');
    expect(sanitize('calm\rand safe')).toBe('calm and safe');
  });

  it('a pasted coloured word fills its slot clean, and the summary says it without escape remnants', async () => {
    const { engine, store } = makeEngine();
    const turn = (text: string) => engine.handleTurn({ sessionId: 'console:ansi', userId: 'ansi', platform: 'console', text });
    await turn('hello');
    await turn('I want to feel \x1b[32mcalm\x1b[0m');
    const summary = (await turn('summary')).reply ?? '';
    expect(summary).toContain('calm');
    expect(summary).not.toMatch(/\[0m|\[32m/);
    const said = (await store.history('console:ansi', 10)).filter((h) => h.role === 'user').map((h) => h.text);
    expect(said[1]).toBe('I want to feel calm');
  });

  it('a risk statement broken up by escape sequences still gets the crisis response', async () => {
    const { engine } = makeEngine();
    const r = await engine.handleTurn({ sessionId: 'console:ansi2', userId: 'ansi2', platform: 'console', text: 'I want to \x1b[1mkill\x1b[0m myself' });
    expect(r.outcome === 'answered' && r.kind).toBe('crisis');
    expect(r.reply).toMatch(/988/);
  });
});
