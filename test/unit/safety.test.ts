import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CrisisCheck } from '../../src/index.js';
import { INITIAL_SAFETY, safetyStep } from '../../src/safety/protocol.js';
import { exchanges, repoConfig, ROOT } from '../helpers.js';

interface CrisisSet {
  must_trigger: Array<{ text: string; kind: string }>;
  must_not_trigger: Array<{ text: string; kind: string }>;
}
const load = (name: string) => JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', name), 'utf8')) as CrisisSet;
const check = new CrisisCheck(repoConfig().safety);

function score(set: CrisisSet) {
  const missed = set.must_trigger.filter((x) => !check.assess(x.text).risk).map((x) => x.text);
  const falseAlarms = set.must_not_trigger.filter((x) => check.assess(x.text).risk).map((x) => x.text);
  return { recall: 1 - missed.length / set.must_trigger.length, fpr: falseAlarms.length / set.must_not_trigger.length, missed, falseAlarms };
}

describe('crisis check', () => {
  // The two development sets were written independently of the patterns, then used to improve them.
  // One false alarm is accepted on purpose: "...a colleague might be suicidal" fires because
  // suppressing "might be suicidal" would also silence "I think I might be suicidal".
  it.each(['crisis_set.json', 'crisis_heldout.json'])('development set %s: every statement caught, at most one known false alarm', (file) => {
    const s = score(load(file));
    expect(s.missed).toEqual([]);
    expect(s.falseAlarms.filter((t) => !t.includes('colleague might be suicidal'))).toEqual([]);
  });

  // The final set was never used for tuning; these floors sit just under the measured
  // figures (recall 0.68, false-positive rate 0.22 on 2026-11-25) to catch regressions.
  it('final untouched set: recall and false-positive rate stay within measured floors', () => {
    const s = score(load('crisis_test.json'));
    expect(s.recall).toBeGreaterThanOrEqual(0.66);
    expect(s.fpr).toBeLessThanOrEqual(0.24);
  });

  it('never fires on ordinary conversation (every corpus input and held-out paraphrase)', () => {
    const heldout = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'rag_heldout.json'), 'utf8')) as { items: Array<{ text: string }> };
    const texts = [...exchanges.map((e) => e.client_input), ...heldout.items.map((i) => i.text)];
    expect(texts.length).toBeGreaterThan(400);
    expect(texts.filter((t) => check.assess(t).risk)).toEqual([]);
  });

  it('classifies self-harm separately from suicidal statements', () => {
    expect(check.assess('I cut myself last night').risk).toBe('self_harm');
    expect(check.assess('I want to end my life').risk).toBe('crisis');
  });

  it('handles negation narrowly: a distant "not" does not cancel a statement', () => {
    expect(check.assess("I'm not suicidal").risk).toBeNull();
    expect(check.assess('killing myself has never crossed my mind').risk).toBeNull();
    expect(check.assess('never mind, I want to die').risk).toBe('crisis');
    expect(check.assess('not sure why but I want to die').risk).toBe('crisis');
  });

  it('never lets a non-crisis phrase hide a first-person statement, or a request for help', () => {
    expect(check.assess('I think I might be suicidal').risk).toBe('crisis');
    expect(check.assess('I need a suicide hotline number').risk).toBe('crisis');
    // An excusing phrase does not reach across a sentence break.
    expect(check.assess('I want to die laughing at that video').risk).toBeNull();
    expect(check.assess('I want to die. Laughing at it is all I have left').risk).toBe('crisis');
    expect(check.assess('I want to die\nlaughing at the cat was the only good bit today').risk).toBe('crisis');
  });

  it('a negated safe statement is not safe, and does not hide the risk inside it', () => {
    expect(check.assess("I'm not safe now").safeStatement).toBe(false);
    expect(check.assess("I don't feel safe").safeStatement).toBe(false);
    expect(check.assess("I can't promise I won't hurt myself")).toMatchObject({ risk: 'self_harm', safeStatement: false });
    expect(check.assess("I won't hurt myself")).toMatchObject({ risk: null, safeStatement: true });
  });

  it('catches combinations of means and intent in any order', () => {
    expect(check.assess("I've been saving up my tablets, I think there are enough to do it").risk).toBe('crisis');
    expect(check.assess('I took two tablets for my headache').risk).toBeNull();
  });
});

describe('safety protocol', () => {
  const cfg = repoConfig().safety;
  const none = { risk: null, safeStatement: false, denial: false } as const;

  it('a risk statement gives the fixed response and enters the safety state', () => {
    const out = safetyStep(cfg, INITIAL_SAFETY, { ...none, risk: 'crisis' })!;
    expect(out.reply).toBe(cfg.response);
    expect(out.state).toMatchObject({ active: true, referrals: 1 });
    for (const resource of ['988', '116 123', 'findahelpline.com']) expect(out.reply).toContain(resource);
  });

  it('denials never release; explicit safe statements do, at the configured count', () => {
    let state = safetyStep(cfg, INITIAL_SAFETY, { ...none, risk: 'crisis' })!.state;
    for (let i = 0; i < 5; i++) {
      const out = safetyStep(cfg, state, { ...none, denial: true })!;
      expect(out.event).toBe('holding');
      expect(out.reply).toBe(cfg.lines.after_denial);
      state = out.state;
    }
    const events: string[] = [];
    for (let i = 0; i < cfg.release.safe_statements_required; i++) {
      const out = safetyStep(cfg, state, { ...none, safeStatement: true })!;
      events.push(out.event);
      state = out.state;
    }
    expect(events.at(-1)).toBe('released');
    expect(state.active).toBe(false);
    expect(safetyStep(cfg, state, none)).toBeNull();
  });

  it('a new risk statement resets the count of safe statements', () => {
    let state = safetyStep(cfg, INITIAL_SAFETY, { ...none, risk: 'crisis' })!.state;
    state = safetyStep(cfg, state, { ...none, safeStatement: true })!.state;
    state = safetyStep(cfg, state, { ...none, risk: 'self_harm' })!.state;
    expect(state).toMatchObject({ active: true, safeStatements: 0, referrals: 2 });
  });
});
