/** Criteria an LLM judged met (signals): they count like matched labels, and the navigator still decides. */
import { describe, expect, it } from 'vitest';
import { Classifier, Navigator, type NavState } from '../../src/index.js';
import { repoConfig } from '../helpers.js';

const config = repoConfig();
const classifier = new Classifier(config.classification);
const navigator = new Navigator(config.navigation, config.classification);
const at = (substate: string, criteriaMet: string[] = []): NavState => ({ substate, criteriaMet, attempts: 0, interruptCounts: {}, completed: [] });
const navigate = (state: NavState, text: string, signals?: string[], slots: Record<string, string> = {}, quotes?: Record<string, string>) => {
  const classification = classifier.classify(text);
  return navigator.navigate({ state, classification, slots: { ...slots, ...classification.slots }, text, signals, quotes });
};

describe('navigator signals', () => {
  it('a goal the phrase matcher missed moves on, with the words the model quoted as the goal', () => {
    const text = "work has been crazy lately, but honestly I'd love some quiet in my head";
    expect(navigate(at('1.1_goal'), text).action).not.toBe('present_vision');
    const d = navigate(at('1.1_goal'), text, ['goal_stated'], {}, { desired_feeling: 'some quiet' });
    expect(d.substate).toBe('1.2_vision');
    expect(d.captured).toMatchObject({ desired_feeling: 'some quiet' }); // and "my head", a place, counted for later
  });

  it('never guesses slot words: judged met without a quote, a criterion needing a slot stays unmet', () => {
    const d = navigate(at('1.1_goal'), "I think it's because of how I was raised", ['goal_stated']);
    expect(d.criteriaMet).toEqual([]);
    expect(d.captured.desired_feeling).toBeUndefined();
  });

  it('criteria count in order only: a later one without the earlier establishes nothing', () => {
    const d = navigate(at('1.2_vision'), 'hmm', ['permission_given']);
    expect(d.criteriaMet).toEqual([]);
    expect(d.substate).toBe('1.2_vision');
  });

  it('several criteria in one message, each with its quoted words; possessives dropped from a body location', () => {
    const slots = { desired_feeling: 'calm' };
    const text = 'my sister mostly, it sits somewhere deep inside me';
    const quotes = { problem: 'my sister mostly', body_location: 'my insides' };
    const d = navigate(at('1.4_problem_and_body'), text, ['problem_named', 'body_location_found'], slots, quotes);
    expect(d.criteriaMet).toEqual(['problem_named', 'body_location_found']);
    expect(d.action).toBe('ask_sensation');
    expect(d.captured).toEqual({ problem: 'your sister mostly', body_location: 'insides' });
    // Without the place's words the answer still counts (the place is not required), but no words are guessed for it.
    const partly = navigate(at('1.4_problem_and_body'), text, ['problem_named', 'body_location_found'], slots, { problem: 'my sister mostly' });
    expect(partly.criteriaMet).toEqual(['problem_named', 'body_location_found']);
    expect(partly.captured).toEqual({ problem: 'your sister mostly' });
  });

  it('signals never skip the safety protocol or an interrupt: an interrupt still wins the reply', () => {
    const d = navigate(at('1.1_goal'), "I think it's because of how I was raised, I analyse everything", ['goal_stated']);
    expect(d.interrupt).toBeDefined();
  });
});
