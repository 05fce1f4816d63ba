/**
 * `settings replies short` in the offline responder: an action's short lines (short_actions in
 * fallback_responses.json) where the config has them, its usual lines where it has none, with
 * slots and the no-repeat rule as ever; and on the real engine and config, a conversation after
 * `settings replies short` gets the short lines and after `settings replies normal` the usual ones.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MemorySessionStore, RedisSessionStore, type SessionStore, type TurnResult } from '../../src/index.js';
import { ResponsesConfigSchema, type ResponsesConfig } from '../../src/config/schemas.js';
import { linePrint } from '../../src/engine/recent-lines.js';
import { OfflineResponder } from '../../src/responder/offline-responder.js';
import { chat, makeEngine, repoConfig } from '../helpers.js';
import { cleanup, client, uniquePrefix } from '../redis/helpers.js';

const responses = repoConfig().responses;
const input = (action: string, over: Partial<Parameters<OfflineResponder['line']>[0]> = {}) => ({
  action,
  slots: {},
  recentLines: [],
  sessionId: 'console:short',
  turn: 1,
  examples: [],
  ...over,
});

/** The repository's lines, with short lines for two actions written for these tests. */
function withShort(short: Record<string, string[]>): ResponsesConfig {
  return { ...responses, short_actions: short };
}

describe('the offline responder with short replies', () => {
  const config = withShort({
    ask_goal: ['Short goal A?', 'Short goal B?'],
    ask_sensation: ['Your {body_location}: what is it like?'],
  });
  const offline = new OfflineResponder(config);

  it('picks a short line where the action has them, and its usual line where it has none', () => {
    for (let turn = 0; turn < 20; turn++) {
      expect(config.short_actions.ask_goal).toContain(offline.line(input('ask_goal', { turn, replyLength: 'short' })));
      expect(config.actions.ask_goal).toContain(offline.line(input('ask_goal', { turn })));
      expect(config.actions.ask_goal).toContain(offline.line(input('ask_goal', { turn, replyLength: 'normal' })));
      // ask_problem has no short lines here: its usual ones.
      expect(config.actions.ask_problem).toContain(offline.line(input('ask_problem', { turn, replyLength: 'short' })));
    }
  });

  it('fills a short line\'s slots, and uses the usual lines when its slot is unknown or not a clean phrase', () => {
    expect(offline.line(input('ask_sensation', { replyLength: 'short', slots: { body_location: 'chest' } }))).toBe('Your chest: what is it like?');
    for (let turn = 0; turn < 10; turn++) {
      const line = offline.line(input('ask_sensation', { turn, replyLength: 'short' }));
      expect(config.actions.ask_sensation).toContain(line);
      expect(line).not.toContain('{body_location}');
    }
  });

  it('keeps the no-repeat rule: another short line while one is fresh, then a fresh usual line, then the oldest short one', () => {
    const [a, b] = config.short_actions.ask_goal!;
    for (let turn = 0; turn < 10; turn++) {
      expect(offline.line(input('ask_goal', { turn, replyLength: 'short', recentLines: [linePrint(a!)] }))).toBe(b);
      const both = [linePrint(b!), linePrint(a!)];
      expect(config.actions.ask_goal).toContain(offline.line(input('ask_goal', { turn, replyLength: 'short', recentLines: both })));
      const everything = [...[a!, b!].map(linePrint), ...config.actions.ask_goal!.map(linePrint)];
      expect(offline.line(input('ask_goal', { turn, replyLength: 'short', recentLines: everything }))).toBe(a);
    }
  });

  it('counts short lines\' slots for the summary the engine builds', () => {
    const handover = new OfflineResponder(withShort({ ask_goal: ['{summary} What now?'] }));
    expect(handover.quotes('ask_goal', 'summary')).toBe(true);
    expect(new OfflineResponder(withShort({})).quotes('ask_goal', 'summary')).toBe(false);
  });
});

describe('short_actions in fallback_responses.json', () => {
  it('is optional (a file without it parses, as before) and names only actions that have lines', () => {
    const { short_actions: _, ...before } = responses;
    expect(ResponsesConfigSchema.parse(before).short_actions).toEqual({});
    const bad = ResponsesConfigSchema.safeParse({ ...responses, short_actions: { no_such_action: ['Hi?'] } });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toContain('no_such_action');
  });

  it('has short lines for the first stage\'s common questions and interrupts, each shorter than its action\'s usual lines on average', () => {
    const common = ['ask_goal', 'redirect_to_outcome', 'present_vision', 'ask_body_location', 'ask_sensation', 'ask_felt_now', 'redirect_to_body', 'return_to_present', 'validate_emotion', 'support_crying', 'hold_space'];
    const mean = (lines: readonly string[]) => lines.reduce((n, l) => n + l.length, 0) / lines.length;
    for (const action of common) {
      const short = responses.short_actions[action];
      expect(short, action).toBeDefined();
      expect(mean(short!), action).toBeLessThan(mean(responses.actions[action]!));
      // One or two sentences.
      for (const line of short!) expect(line.split(/(?<=[.?!])\s+/).length, line).toBeLessThanOrEqual(2);
    }
  });
});

describe('a conversation after settings replies short / normal (the real engine and config)', () => {
  const prefixes: string[] = [];
  afterAll(async () => {
    await Promise.all(prefixes.map((p) => cleanup(p)));
  });

  /** A line as a pattern: its slots match any words. */
  const pattern = (line: string) => new RegExp(`${line.split(/\{\w+\}/).map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')).join('.+')}$`);
  /** The reply ends with one of `lines` (it may lead with other words: the disclosure, an acknowledgement). */
  const saysOneOf = (r: TurnResult, lines: readonly string[] | undefined) => {
    expect(r.outcome).toBe('answered');
    expect(lines).toBeDefined();
    expect(lines!.some((l) => pattern(l).test(r.reply!)), r.reply!).toBe(true);
  };

  async function run(store: SessionStore) {
    const { engine } = makeEngine({ store });
    const say = chat(engine, 'console:short-replies', 'short-person');
    expect((await say('settings replies short')).reply).toContain(responses.settings.replies_short);
    const goal = await say('hello');
    expect(goal.outcome === 'answered' && goal.action).toBe('ask_goal');
    saysOneOf(goal, responses.short_actions.ask_goal);
    const vision = await say('I would like to feel calm');
    expect(vision.outcome === 'answered' && vision.action).toBe('present_vision');
    saysOneOf(vision, responses.short_actions.present_vision);

    expect((await say('settings replies normal')).reply).toBe(responses.settings.replies_normal);
    // The same step again (a soft answer asks again, differently): the usual lines now.
    const again = await say('I would like to feel calm and grounded');
    expect(again.outcome).toBe('answered');
    if (again.outcome !== 'answered') return;
    const short = responses.short_actions[again.action!] ?? [];
    expect(short.some((l) => pattern(l).test(again.reply))).toBe(false);
    saysOneOf(again, responses.actions[again.action!]);
  }

  it('on the memory store', async () => {
    await run(new MemorySessionStore());
  });

  it('on Redis (the preference read with the session)', async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    await run(new RedisSessionStore({ client: client(), prefix }));
  });
});
