/**
 * The `summary` and `breathe` commands on the real engine with the real config: what the
 * summary says mid-stage, at the end of stage 1 and in a new session; that `breathe` replays
 * the relaxation and leaves the conversation where it was; that `help` lists both.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SessionStore } from '../src/index.js';
import { chat, makeEngine, repoConfig, ROOT } from './helpers.js';
import { answered } from './turn-results.js';

interface ScriptTurn {
  say: string;
  substate?: string;
  action?: string;
}
const happy = JSON.parse(readFileSync(join(ROOT, 'test', 'conversations', 'happy_path.json'), 'utf8')) as { turns: ScriptTurn[] };
/** The happy path up to and including the handover (the end of stage 1). */
const HANDOVER = happy.turns.findIndex((t) => t.action === 'handover');
const MID_STAGE = ['hello', 'I want to feel calm and present', 'yes'];
const RELAXATION = "Here's the short relaxation again.";
const END_OF_STAGE = "That's everything for the first stage.";

/** The conversation part of a stored session state (what `breathe` and `summary` must not change). */
async function conversationState(store: SessionStore, sessionId: string) {
  const open = await store.open<{ nav: unknown; slots: unknown; facts: unknown; safety: unknown; pending: unknown; disclosed: unknown }>(sessionId);
  await store.release(open);
  const s = open.record!.state;
  return { nav: s.nav, slots: s.slots, facts: s.facts, safety: s.safety, pending: s.pending, disclosed: s.disclosed };
}

async function play(say: ReturnType<typeof chat>, lines: readonly string[]) {
  for (const line of lines) answered(await say(line));
}

describe('summary', () => {
  it('mid-stage lists what was found in the person\'s words, then what is still open', async () => {
    const { engine } = makeEngine();
    const say = chat(engine, 'console:summary-mid');
    await play(say, MID_STAGE);
    const r = answered(await say('summary'));
    expect(r.kind).toBe('command');
    expect(r.action).toBe('summary');
    expect(r.substate).toBe('1.2_vision');
    expect(r.reply).toContain('you want to feel calm and present');
    expect(r.reply).toContain('Still open:');
    expect(r.reply).toContain('where you feel it in your body'); // not found yet, so open
    expect(r.reply).not.toContain(END_OF_STAGE);
    expect(r.reply).not.toContain(repoConfig().responses.disclosure); // shown once, at the first reply
  });

  it('at the end of stage 1 sums up everything in the person\'s words and says the stage is done', async () => {
    const { engine } = makeEngine();
    const say = chat(engine, 'console:summary-end');
    for (const turn of happy.turns.slice(0, HANDOVER + 1)) {
      const r = answered(await say(turn.say));
      expect(r.action, turn.say).toBe(turn.action);
    }
    const r = answered(await say('summary'));
    expect(r.action).toBe('summary');
    expect(r.substate).toBe('1.6_handover');
    for (const s of ['you want to feel calm and present', 'it lives in your chest', 'it starts when an email pings', 'your body felt lighter']) expect(r.reply).toContain(s);
    expect(r.reply).toContain(END_OF_STAGE);
    expect(r.reply).not.toContain('Still open');
    expect(r.reply).not.toMatch(/[{}]/); // no template placeholder left unfilled
  });

  it('in a brand-new session says nothing has been gathered yet (after the disclosure)', async () => {
    const { engine } = makeEngine();
    const r = answered(await chat(engine, 'console:summary-new')('summary'));
    expect(r.action).toBe('summary');
    expect(r.substate).toBe('1.1_goal');
    expect(r.reply.startsWith(repoConfig().responses.disclosure)).toBe(true);
    expect(r.reply).toContain(repoConfig().responses.summary!.nothing_yet);
    expect(r.reply).not.toContain("Here's what you've found");
    expect(r.reply).toContain('Still open: how you\'d like to feel');
  });

  it('is recognised with a slash, a bang, capitals and trailing punctuation, and only alone in a message', async () => {
    const { engine } = makeEngine();
    const say = chat(engine, 'console:summary-forms');
    await play(say, MID_STAGE);
    for (const form of ['Summary', '/summary', '!summary', 'SUMMARY?', 'summary.']) {
      expect(answered(await say(form)).action, form).toBe('summary');
    }
    expect(answered(await say('a summary of my week would be nice')).action).not.toBe('summary');
  });

  it('leaves the conversation where it was: the next message continues as if it had not been asked', async () => {
    const { engine, store } = makeEngine();
    const say = chat(engine, 'console:summary-state');
    await play(say, MID_STAGE);
    const before = await conversationState(store, 'console:summary-state');
    answered(await say('summary'));
    expect(await conversationState(store, 'console:summary-state')).toEqual(before);
    const next = answered(await say('sure, go ahead'));
    expect([next.substate, next.action]).toEqual(['1.3_psychoeducation', 'explain_survival_response']);
  });
});

describe('breathe', () => {
  it('mid-stage replays the short relaxation and the conversation state does not change', async () => {
    const { engine, store } = makeEngine();
    const say = chat(engine, 'console:breathe-mid');
    await play(say, MID_STAGE);
    const before = await conversationState(store, 'console:breathe-mid');
    const r = answered(await say('breathe'));
    expect(r.kind).toBe('command');
    expect(r.action).toBe('breathe');
    expect(r.substate).toBe('1.2_vision');
    expect(r.reply.startsWith(RELAXATION)).toBe(true);
    expect(r.reply).not.toMatch(/[{}]/); // no body location known yet: no line with a gap
    expect(await conversationState(store, 'console:breathe-mid')).toEqual(before);
  });

  it('the next ordinary message continues exactly where the conversation was (same substate and action as without breathe)', async () => {
    // Without breathe.
    const plain = makeEngine();
    const sayPlain = chat(plain.engine, 'console:breathe-plain');
    await play(sayPlain, MID_STAGE);
    const expected = answered(await sayPlain('sure, go ahead'));
    // With breathe in between.
    const { engine } = makeEngine();
    const say = chat(engine, 'console:breathe-between');
    await play(say, MID_STAGE);
    answered(await say('breathe'));
    const next = answered(await say('sure, go ahead'));
    expect([next.substate, next.action]).toEqual([expected.substate, expected.action]);
    expect([next.substate, next.action]).toEqual(['1.3_psychoeducation', 'explain_survival_response']);
  });

  it('at every point of the happy path, breathe (three times) changes nothing the rest of the script expects', async () => {
    for (let at = 1; at < happy.turns.length; at++) {
      const { engine } = makeEngine();
      const say = chat(engine, `console:breathe-sweep-${at}`);
      for (const [i, turn] of happy.turns.entries()) {
        if (i === at) {
          for (let n = 0; n < 3; n++) {
            const b = answered(await say('breathe'));
            expect(b.action, `breathe before turn ${i + 1}`).toBe('breathe');
            expect(b.reply.startsWith(RELAXATION), `breathe before turn ${i + 1}`).toBe(true);
          }
        }
        const r = answered(await say(turn.say));
        const where = `breathe before turn ${at + 1}, then turn ${i + 1} (${JSON.stringify(turn.say)})`;
        expect(r.substate, where).toBe(turn.substate);
        expect(r.action, where).toBe(turn.action);
      }
    }
  });

  it('at the end of stage 1 still replays the relaxation, with no placeholder left', async () => {
    const { engine } = makeEngine();
    const say = chat(engine, 'console:breathe-end');
    await play(say, happy.turns.slice(0, HANDOVER + 1).map((t) => t.say));
    const r = answered(await say('breathe'));
    expect(r.action).toBe('breathe');
    expect(r.substate).toBe('1.6_handover');
    expect(r.reply.startsWith(RELAXATION)).toBe(true);
    expect(r.reply).not.toMatch(/[{}]/);
  });
});

describe('help', () => {
  it('lists summary and breathe among the commands', async () => {
    const { engine } = makeEngine();
    const say = chat(engine, 'console:help-lists');
    await play(say, ['hello']);
    const r = answered(await say('help'));
    expect(r.action).toBe('help');
    expect(r.reply).toMatch(/^• summary: /m);
    expect(r.reply).toMatch(/^• breathe: /m);
    expect(r.reply).toContain('988');
  });
});
