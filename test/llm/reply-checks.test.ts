/**
 * The checks between the model and the person: the answer's format, the
 * navigator's choices, the reply guards, and what streaming lets through.
 */
import { describe, expect, it } from 'vitest';
import { ReplyGuards } from '../../src/responder/llm/guards.js';
import { checkReply, replyResponseFormat } from '../../src/responder/llm/reply-format.js';
import { ReplyStream, lastSentenceEnd } from '../../src/responder/llm/reply-stream.js';
import type { StepPlan } from '../../src/index.js';
import { repoConfig } from '../helpers.js';

/** A plan like the navigator's in substate 1.2 (two criteria missing). */
const plan: StepPlan = {
  stageTitle: 'Stage 1',
  substateTitle: 'vision',
  objective: 'o',
  done: [],
  missing: ['vision_accepted', 'permission_given'],
  choices: [
    { criteria: [], action: 'present_vision', category: 'vision_building' },
    { criteria: ['vision_accepted'], action: 'ask_permission', category: 'permission_check' },
    { criteria: ['vision_accepted', 'permission_given'], action: 'explain_survival_response', category: 'psychoeducation' },
  ],
  slots: [],
  actionFor: ({ criteria: c }) => (c.includes('vision_accepted') ? (c.includes('permission_given') ? 'explain_survival_response' : 'ask_permission') : 'present_vision'),
  examples: new Map(),
};
const answer = (o: object) => JSON.stringify(o);
const MESSAGE = 'yes, that picture fits';

describe('model answers', () => {
  it('accepts an answer for one of the navigator choices', () => {
    const r = checkReply(answer({ risk: false, slots: {}, criteria_met: ['vision_accepted'], action: 'ask_permission', reply: ' May I explain something? ' }), plan, MESSAGE);
    expect(r).toEqual({ ok: true, value: { risk: false, criteria: ['vision_accepted'], quotes: {}, action: 'ask_permission', reply: 'May I explain something?' } });
  });

  it('refuses text that is not JSON, JSON off the schema, unknown criteria and a reply for another step', () => {
    expect(checkReply('Sure! Here is my reply: hello', plan, MESSAGE)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(checkReply(answer({ risk: false, slots: {}, criteria_met: 'vision_accepted', action: 'ask_permission', reply: 'x' }), plan, MESSAGE)).toMatchObject({ ok: false, reason: 'schema' });
    expect(checkReply(answer({ risk: false, slots: {}, criteria_met: [], action: 'present_vision' }), plan, MESSAGE)).toMatchObject({ ok: false, reason: 'schema' });
    expect(checkReply(answer({ risk: false, slots: {}, criteria_met: [], action: 'present_vision', reply: '   ' }), plan, MESSAGE)).toMatchObject({ ok: false, reason: 'schema' });
    expect(checkReply(answer({ risk: false, slots: {}, criteria_met: ['goal_stated'], action: 'present_vision', reply: 'x' }), plan, MESSAGE)).toMatchObject({ ok: false, reason: 'schema' });
    // Claims the vision was accepted but writes the vision again: the navigator would ask permission.
    expect(checkReply(answer({ risk: false, slots: {}, criteria_met: ['vision_accepted'], action: 'present_vision', reply: 'x' }), plan, MESSAGE)).toMatchObject({ ok: false, reason: 'wrong_step' });
  });

  it('reads JSON wrapped in a Markdown fence (some local models do that)', () => {
    const r = checkReply('```json\n' + answer({ risk: false, slots: {}, criteria_met: [], action: 'present_vision', reply: 'Picture it.' }) + '\n```', plan, MESSAGE);
    expect(r.ok).toBe(true);
  });

  it("takes slot words only when they are the person's own: a quote not in the message is refused", () => {
    const goal: StepPlan = {
      ...plan,
      missing: ['goal_stated'],
      slots: [{ name: 'desired_feeling', description: 'the feeling' }],
      choices: [
        { criteria: [], action: 'ask_goal', category: undefined },
        { criteria: ['goal_stated'], action: 'present_vision', category: undefined },
      ],
      actionFor: ({ criteria, quotes }) => (criteria.includes('goal_stated') && quotes.desired_feeling ? 'present_vision' : 'ask_goal'),
    };
    const message = "Work has been crazy lately, but honestly I'd love some PEACE.";
    const said = (words: string) => answer({ risk: false, criteria_met: ['goal_stated'], slots: { desired_feeling: words }, action: 'present_vision', reply: 'Peace. Picture it.' });
    expect(checkReply(said('some peace'), goal, message)).toMatchObject({ ok: true, value: { quotes: { desired_feeling: 'some peace' } } });
    expect(checkReply(said('calm and rested'), goal, message)).toMatchObject({ ok: false, reason: 'schema' }); // not what they wrote
    expect(checkReply(said('eace'), goal, message)).toMatchObject({ ok: false, reason: 'schema' }); // part of a word
    // Marked met without the words it needs: the navigator would ask again, so the reply is for the wrong step.
    expect(checkReply(said(''), goal, message)).toMatchObject({ ok: false, reason: 'wrong_step' });
  });

  it('narrows the JSON schema to this turn: its criteria and its actions', () => {
    const f = replyResponseFormat(plan, 'json_schema');
    expect(f.type).toBe('json_schema');
    const schema = (f as { json_schema: { strict: boolean; schema: { properties: Record<string, { enum?: string[]; items?: { enum?: string[] } }> } } }).json_schema;
    expect(schema.strict).toBe(true);
    expect(schema.schema.properties.action!.enum).toEqual(['present_vision', 'ask_permission', 'explain_survival_response']);
    expect(schema.schema.properties.criteria_met!.items!.enum).toEqual(['vision_accepted', 'permission_given']);
    expect(replyResponseFormat(plan, 'json_object')).toEqual({ type: 'json_object' });
  });
});

describe('reply guards (config/…/llm_prompts.json)', () => {
  const guards = new ReplyGuards(repoConfig().llm.guards);
  it('pass an ordinary reply', () => {
    expect(guards.check('That makes sense. Where do you notice it in your body?')).toEqual({ ok: true });
  });
  it('stop diagnoses, medication advice, clinician claims, prompt markers, empty and overlong replies', () => {
    expect(guards.check('It sounds like you have PTSD, honestly.')).toEqual({ ok: false, reason: 'banned:diagnosis' });
    expect(guards.check('You could try taking some Melatonin tonight.')).toEqual({ ok: false, reason: 'banned:medication' });
    expect(guards.check('Maybe lower your DOSE a bit.')).toEqual({ ok: false, reason: 'banned:medication' });
    expect(guards.check('Antidepressants can help.')).toEqual({ ok: false, reason: 'banned:medication' });
    expect(guards.check("As a guide, and I'm a therapist too, I think...")).toEqual({ ok: false, reason: 'banned:other' });
    expect(guards.check('<<<end person abc>>> sure')).toEqual({ ok: false, reason: 'marker' });
    expect(guards.check('  ')).toEqual({ ok: false, reason: 'empty' });
    expect(guards.check('a'.repeat(repoConfig().llm.guards.max_reply_chars + 1))).toEqual({ ok: false, reason: 'too_long' });
  });
});

describe('streamed replies', () => {
  const guards = new ReplyGuards(repoConfig().llm.guards);
  const run = (full: string, step = 5) => {
    const shown: Array<{ text: string; criteria: readonly string[] }> = [];
    const stream = new ReplyStream(plan, MESSAGE, guards, (text, judged) => shown.push({ text, criteria: judged.criteria }));
    for (let i = step; i < full.length + step; i += step) stream.push(full.slice(0, i));
    return shown;
  };

  it('shows whole sentences only, after a valid head, with the criteria they were written for', () => {
    const shown = run(answer({ risk: false, slots: {}, criteria_met: ['vision_accepted'], action: 'ask_permission', reply: 'Lovely. May I explain a little about the body? Then we look at it together.' }));
    expect(shown.map((s) => s.text)).toEqual(['Lovely.', 'Lovely. May I explain a little about the body?']);
    expect(shown[0]!.criteria).toEqual(['vision_accepted']);
  });

  it('shows nothing when the head is for another step, or the reply comes before the head', () => {
    expect(run(answer({ risk: false, slots: {}, criteria_met: ['vision_accepted'], action: 'present_vision', reply: 'One. Two. Three. ' }))).toEqual([]);
    expect(run(answer({ reply: 'One. Two. Three. ', criteria_met: [], action: 'present_vision' }))).toEqual([]);
  });

  it('stops before a sentence with a banned phrase is shown', () => {
    const shown = run(answer({ risk: false, slots: {}, criteria_met: [], action: 'present_vision', reply: 'I hear you. You should take ibuprofen for that. Then rest. ' }));
    expect(shown.map((s) => s.text)).toEqual(['I hear you.']);
  });

  it('stops before a sentence that brings up crisis resources (the fixed response follows)', () => {
    const shown = run(answer({ risk: false, slots: {}, criteria_met: [], action: 'present_vision', reply: 'I hear you. Please call a crisis line now. ' }));
    expect(shown.map((s) => s.text)).toEqual(['I hear you.']);
  });

  it('shows nothing of an answer flagged as a risk', () => {
    expect(run(answer({ risk: true, slots: {}, criteria_met: [], action: 'present_vision', reply: 'One. Two. Three. ' }))).toEqual([]);
  });

  it('finds sentence ends', () => {
    expect(lastSentenceEnd('He said "Stop." Then')).toBe(15);
    expect(lastSentenceEnd('One. Two')).toBe(4);
    expect(lastSentenceEnd('One.Two')).toBe(0);
    expect(lastSentenceEnd('Line one\nline')).toBe(9);
  });
});
