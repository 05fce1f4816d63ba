import { describe, expect, it } from 'vitest';
import { NO_RISK, type SafetyAssessment } from '../../src/safety/crisis-check.js';
import { INITIAL_SAFETY, safetyStep, type SafetyState } from '../../src/safety/protocol.js';
import { repoConfig } from '../helpers.js';

const cfg = repoConfig().safety;
const a = (over: Partial<SafetyAssessment>): SafetyAssessment => ({ ...NO_RISK, ...over });
const at = (turn: number, command = false) => ({ turn, command });

describe('safety protocol', () => {
  it('a risk statement gives the fixed response and enters the safety state', () => {
    const out = safetyStep(cfg, INITIAL_SAFETY, a({ risk: 'crisis' }))!;
    expect(out.reply).toBe(cfg.response);
    expect(out).toMatchObject({ event: 'referral', reason: 'risk', state: { active: true, referrals: 1 } });
    for (const resource of ['988', '116 123', 'findahelpline.com']) expect(out.reply).toContain(resource);
  });

  it('denials never release; explicit safe statements do, at the configured count', () => {
    let state = safetyStep(cfg, INITIAL_SAFETY, a({ risk: 'crisis' }))!.state;
    for (let i = 0; i < 5; i++) {
      const out = safetyStep(cfg, state, a({ denial: true }))!;
      expect(out.event).toBe('holding');
      expect(out.reply).toBe(cfg.lines.after_denial);
      state = out.state;
    }
    const events: string[] = [];
    for (let i = 0; i < cfg.release.safe_statements_required; i++) {
      const out = safetyStep(cfg, state, a({ safeStatement: true }))!;
      events.push(out.event);
      state = out.state;
    }
    expect(events.at(-1)).toBe('released');
    expect(state.active).toBe(false);
    expect(safetyStep(cfg, state, NO_RISK)).toBeNull();
  });

  it('a new risk statement resets the count of safe statements', () => {
    let state = safetyStep(cfg, INITIAL_SAFETY, a({ risk: 'crisis' }))!.state;
    state = safetyStep(cfg, state, a({ safeStatement: true }))!.state;
    state = safetyStep(cfg, state, a({ risk: 'self_harm' }))!.state;
    expect(state).toMatchObject({ active: true, safeStatements: 0, referrals: 2 });
  });
});

describe('the check-in for a possible risk', () => {
  const asked = (turn = 3): SafetyState => safetyStep(cfg, INITIAL_SAFETY, a({ possible: 'crisis' }), at(turn))!.state;

  it('asks directly, with the crisis lines, and holds nothing else', () => {
    const out = safetyStep(cfg, INITIAL_SAFETY, a({ possible: 'crisis' }), at(3))!;
    expect(out.event).toBe('check_in');
    expect(out.reply).toBe(cfg.check_in.message);
    for (const resource of ['988', '116 123', 'findahelpline.com']) expect(out.reply).toContain(resource);
    expect(out.state).toMatchObject({ active: false, checkInAt: 3, referrals: 0 });
  });

  it.each([
    ['yes', a({ answer: 'yes' })],
    ['an unclear answer', a({ answer: 'unclear' })],
    ['a no that carries another possible risk', a({ answer: 'no', possible: 'crisis' })],
    ['a risk statement', a({ answer: 'no', risk: 'crisis' })],
  ])('%s -> the crisis response and the safety state', (_name, answer) => {
    const out = safetyStep(cfg, asked(), answer, at(4))!;
    expect(out.event).toBe('referral');
    expect(out.reply).toBe(cfg.response);
    expect(out.state).toMatchObject({ active: true, referrals: 1, checkInAt: undefined });
  });

  it('a clear no -> back to the conversation, nothing held', () => {
    const out = safetyStep(cfg, asked(), a({ answer: 'no' }), at(4))!;
    expect(out.event).toBe('cleared');
    expect(out.reply).toBe(cfg.check_in.after_no);
    expect(out.state).toMatchObject({ active: false, checkInAt: undefined, clearedAt: 4, referrals: 0 });
    expect(safetyStep(cfg, out.state, NO_RISK, at(5))).toBeNull();
  });

  it('a possible risk again soon after a no goes straight to the crisis response; much later, a new check-in', () => {
    const cleared = safetyStep(cfg, asked(), a({ answer: 'no' }), at(4))!.state;
    expect(safetyStep(cfg, cleared, a({ possible: 'crisis' }), at(6))).toMatchObject({ event: 'referral', reason: 'repeated' });
    const later = 4 + cfg.check_in.escalate_within_turns + 1;
    expect(safetyStep(cfg, cleared, a({ possible: 'crisis' }), at(later))).toMatchObject({ event: 'check_in' });
  });

  it('a command while the question is open waits: the check-in stays pending', () => {
    const state = asked();
    expect(safetyStep(cfg, state, a({ answer: 'unclear' }), at(4, true))).toBeNull();
    expect(safetyStep(cfg, state, a({ answer: 'no' }), at(5))).toMatchObject({ event: 'cleared' });
  });

  it('in the safety state a possible risk only holds (no check-in on top of the crisis response)', () => {
    const state = safetyStep(cfg, INITIAL_SAFETY, a({ risk: 'crisis' }))!.state;
    expect(safetyStep(cfg, state, a({ possible: 'crisis' }), at(2))).toMatchObject({ event: 'holding' });
  });
});
