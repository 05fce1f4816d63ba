/**
 * `settings replies short` with the LLM responder (the real engine and `openai` client against
 * the local fake server): the request carries the reviewed short-replies instruction
 * (llm_prompts.json) only while the person asked for short replies, and the reply guards still
 * apply, a refused reply giving the offline responder's short line.
 */
import { describe, expect, it } from 'vitest';
import { repoConfig } from '../helpers.js';
import { llmEngine, plainModel, systemOf, useFakeOpenAi } from './llm-helpers.js';

const { fake, url } = useFakeOpenAi();
const { llm, responses } = repoConfig();

let n = 0;
function person() {
  const id = ++n;
  return (engine: Awaited<ReturnType<typeof llmEngine>>['engine'], text: string) =>
    engine.handleTurn({ sessionId: `console:short-llm-${id}`, userId: `short-llm-${id}`, platform: 'console', text });
}

describe('short replies with the LLM responder', () => {
  it('sends the short-replies instruction only while the person asked for short replies', async () => {
    const { engine } = await llmEngine({ baseURL: url() });
    fake.chatHandler = plainModel('What would you like to feel instead?');
    const say = person();
    await say(engine, 'hello');
    expect(systemOf(fake.lastChat()!)).not.toContain(llm.short_replies);

    await say(engine, 'settings replies short');
    const before = fake.chatRequests.length;
    await say(engine, 'work has been so hectic lately');
    expect(fake.chatRequests.length).toBe(before + 1);
    const system = systemOf(fake.lastChat()!);
    expect(system).toContain(`- ${llm.short_replies}`);
    // Alongside the usual rules, after them (it outranks their "two to four sentences").
    for (const rule of llm.method_rules) expect(system.indexOf(rule)).toBeLessThan(system.indexOf(llm.short_replies));

    await say(engine, 'settings replies normal');
    await say(engine, 'I would like to feel calm');
    expect(systemOf(fake.lastChat()!)).not.toContain(llm.short_replies);
  });

  it('another person in the same engine keeps the usual instructions', async () => {
    const { engine } = await llmEngine({ baseURL: url() });
    fake.chatHandler = plainModel('Go on.');
    const short = person();
    const usual = person();
    await short(engine, 'settings replies short');
    await short(engine, 'hello');
    expect(systemOf(fake.lastChat()!)).toContain(llm.short_replies);
    await usual(engine, 'hello');
    expect(systemOf(fake.lastChat()!)).not.toContain(llm.short_replies);
  });

  it('still applies the reply guards: a refused reply gives the offline short line', async () => {
    const { engine, events } = await llmEngine({ baseURL: url() });
    fake.chatHandler = plainModel("I'm a therapist, so trust me: what would you like to feel?");
    const say = person();
    await say(engine, 'settings replies short');
    const r = await say(engine, 'hello');
    expect(r.outcome === 'answered' && r.action).toBe('ask_goal');
    expect(r.reply).not.toContain('therapist, so trust me');
    expect(responses.short_actions.ask_goal!.some((l) => r.reply!.endsWith(l))).toBe(true);
    expect(events.at(-1)).toMatchObject({ outcome: 'fallback', reason: 'guard', rule: 'banned:other' });
  });
});
