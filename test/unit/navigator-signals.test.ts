/** Criteria an LLM judged met (signals): they count like matched labels, and the navigator still decides. */
import { describe, expect, it } from 'vitest';
import { Classifier, Navigator, type NavState } from '../../src/index.js';
import { repoConfig } from '../helpers.js';

const config = repoConfig();
const classifier = new Classifier(config.classification);
const navigator = new Navigator(config.navigation, config.classification);
const at = (substate: string, criteriaMet: string[] = []): NavState => ({ substate, criteriaMet, attempts: 0, interruptCounts: {}, completed: [] });
const navigate = (state: NavState, text: string, signals?: string[], slots: Record<string, string> = {}) => {
  const classification = classifier.classify(text);
  return navigator.navigate({ state, classification, slots: { ...slots, ...classification.slots }, text, signals });
};

describe('navigator signals', () => {
  it('a goal the phrase matcher missed moves on, and the goal is taken from the answer', () => {
    const text = 'honestly just lighter';
    expect(navigate(at('1.1_goal'), text).action).toBe('ask_goal');
    const d = navigate(at('1.1_goal'), text, ['goal_stated']);
    expect(d.substate).toBe('1.2_vision');
    expect(d.captured).toEqual({ desired_feeling: 'just lighter' });
  });

  it('criteria count in order only: a later one without the earlier establishes nothing', () => {
    const d = navigate(at('1.2_vision'), 'hmm', ['permission_given']);
    expect(d.criteriaMet).toEqual([]);
    expect(d.substate).toBe('1.2_vision');
  });

  it("a criterion needing a slot takes it from the answer only when it is the one being asked", () => {
    const slots = { desired_feeling: 'calm' };
    // No problem phrase, no body phrase: the free answer counts, the body location is not guessed.
    const text = 'my sister mostly, it sits somewhere deep inside me';
    const d = navigate(at('1.4_problem_and_body'), text, ['problem_named', 'body_location_found'], slots);
    expect(d.criteriaMet).toEqual(['problem_named']);
    expect(d.action).toBe('ask_body_location');
    // Asked where it is felt, the whole answer is the place.
    const next = navigate(at('1.4_problem_and_body', ['problem_named']), 'somewhere deep inside, hard to say', ['body_location_found'], { ...slots, problem: 'x' });
    expect(next.criteriaMet).toEqual(['body_location_found']);
    expect(next.action).toBe('ask_sensation');
    expect(next.captured.body_location).toBe('somewhere deep inside');
  });

  it('signals never skip the safety protocol or an interrupt: an interrupt still wins the reply', () => {
    const d = navigate(at('1.1_goal'), "I think it's because of how I was raised, I analyse everything", ['goal_stated']);
    expect(d.interrupt).toBeDefined();
  });
});
