import { describe, expect, it } from 'vitest';
import { Classifier, Navigator, type EngineConfig, type NavState } from '../../src/index.js';
import { repoConfig } from '../helpers.js';

const config = repoConfig();
const classifier = new Classifier(config.classification);

function step(nav: Navigator, state: NavState, text: string, slots: Record<string, string> = {}) {
  const classification = classifier.classify(text);
  return nav.navigate({ state, classification, slots: { ...slots, ...classification.slots }, text });
}

function withNavigation(mutate: (n: EngineConfig['navigation']) => void): Navigator {
  const navigation = structuredClone(config.navigation);
  mutate(navigation);
  return new Navigator(navigation, config.classification);
}

describe('navigator', () => {
  const nav = new Navigator(config.navigation, config.classification);

  it('is a pure function: same input, same decision, input untouched', () => {
    const state = nav.initialState();
    const frozen = structuredClone(state);
    const a = step(nav, state, 'I want to feel calm');
    const b = step(nav, state, 'I want to feel calm');
    expect(a).toEqual(b);
    expect(state).toEqual(frozen);
    expect(JSON.parse(JSON.stringify(a.state))).toEqual(a.state); // plain, serialisable
  });

  it('meets a criterion, moves to the next substate and names the retrieval category', () => {
    const d = step(nav, nav.initialState(), 'I want to feel calm');
    expect(d).toMatchObject({ from: '1.1_goal', substate: '1.2_vision', action: 'present_vision', criteriaMet: ['goal_stated'], transitioned: true, ragCategory: 'vision_building' });
    expect(d.state.completed).toEqual(['1.1_goal']);
  });

  it('a problem without a goal triggers the redirect to an outcome and counts an attempt', () => {
    const d = step(nav, nav.initialState(), 'work is hectic');
    expect(d).toMatchObject({ action: 'redirect_to_outcome', trigger: 'problem_statement', substate: '1.1_goal', ragCategory: 'outcome_redirect' });
    expect(d.state.attempts).toBe(1);
  });

  it('progress wins over a trigger in the same message', () => {
    expect(step(nav, nav.initialState(), "work is hectic and I'd like to feel calm").action).toBe('present_vision');
  });

  it('establishes criteria in order, one label each', () => {
    const inVision: NavState = { ...nav.initialState(), substate: '1.2_vision' };
    const d = step(nav, inVision, 'yes');
    expect(d.criteriaMet).toEqual(['vision_accepted']);
    expect(d.action).toBe('ask_permission');
  });

  it('fires interrupts in the documented priority order', () => {
    const d = step(nav, nav.initialState(), 'I think it is because I was crying when I was a kid');
    expect(d.interrupt).toBe('crying'); // crying > past > thinking
    const order = config.navigation.interrupt_priority;
    expect(order.indexOf('crying')).toBeLessThan(order.indexOf('past'));
    expect(order.indexOf('past')).toBeLessThan(order.indexOf('thinking'));
  });

  it('an interrupt wins the reply but criteria met in the same message still count', () => {
    const d = step(nav, nav.initialState(), "I'm crying, I just want to feel safe");
    expect(d.interrupt).toBe('crying');
    expect(d.action).toBe('support_crying');
    expect(d.criteriaMet).toEqual(['goal_stated']);
    expect(d.substate).toBe('1.2_vision');
  });

  it('caps each interrupt per substate, and resets the count in the next substate', () => {
    let state = nav.initialState();
    const actions: string[] = [];
    for (let i = 0; i < 3; i++) {
      const d = step(nav, state, 'I reckon it is my job');
      actions.push(d.action);
      state = d.state;
    }
    expect(actions).toEqual(['redirect_to_body', 'redirect_to_body', 'redirect_to_outcome']); // "my job" is a problem: the cap lets the redirect to an outcome through
    state = step(nav, state, 'I want to feel calm').state;
    expect(step(nav, state, 'I reckon it is my job').action).toBe('redirect_to_body');
  });

  it('moves on when a substate reaches its attempt cap', () => {
    let state: NavState = { ...nav.initialState(), substate: '1.3_psychoeducation' };
    let d;
    for (let i = 0; i < 3; i++) {
      d = step(nav, state, 'the cat');
      state = d.state;
    }
    expect(d!).toMatchObject({ capReached: true, substate: '1.4_problem_and_body', action: 'ask_problem' });
  });

  it('an open question accepts any answer and captures it as a slot', () => {
    const state: NavState = { ...nav.initialState(), substate: '1.4_problem_and_body' };
    const d = step(nav, state, 'my sister keeps calling me about our mum');
    expect(d.criteriaMet).toEqual(['problem_named']);
    expect(d.captured.problem).toBe('your sister keeps calling you about your mum');
  });

  it('requires a known slot where the config says so', () => {
    // goal_stated needs desired_feeling: a bare "yes" is not a goal.
    expect(step(nav, nav.initialState(), 'yes').criteriaMet).toEqual([]);
  });

  it('follows a trigger with a goto to another substate', () => {
    const jumping = withNavigation((n) => {
      n.stages.stage_1!.substates['1.1_goal']!.triggers = { off_topic: { action: 'ask_problem', goto: '1.4_problem_and_body' } };
      n.interrupts.off_topic!.max_attempts = 1;
      n.interrupt_priority = n.interrupt_priority.filter((i) => i !== 'off_topic');
    });
    const d = jumping.navigate({ state: jumping.initialState(), classification: classifier.classify('what is the weather'), slots: {}, text: 'what is the weather' });
    expect(d).toMatchObject({ substate: '1.4_problem_and_body', action: 'ask_problem', trigger: 'off_topic' });
  });

  it('walks into a stage added only in config', () => {
    const extended = withNavigation((n) => {
      n.stages.stage_1!.substates['1.6_handover']!.terminal = false;
      n.stages.stage_1!.substates['1.6_handover']!.completion_criteria = ['ready_for_more'];
      n.stages.stage_1!.substates['1.6_handover']!.criteria = { ready_for_more: { met_by: ['agreement'], accept_any_answer: false, ahead_by: [], ask: 'handover' } };
      n.stages.stage_1!.substates['1.6_handover']!.next = '2.1_resource';
      n.stages.stage_2 = {
        title: 'Stage 2',
        substates: {
          '2.1_resource': {
            title: 'a resource',
            objective: 'Find a resource in the body.',
            completion_criteria: ['resource_found'],
            criteria: { resource_found: { met_by: ['body_location'], accept_any_answer: false, ahead_by: [], ask: 'ask_body_location' } },
            triggers: {},
            terminal: false,
            next: '1.6_handover',
            rag_queries: { ask_body_location: 'body_location' },
          },
        },
      };
    });
    const state: NavState = { ...extended.initialState(), substate: '1.6_handover' };
    const d = step(extended, state, 'yes');
    expect(d).toMatchObject({ substate: '2.1_resource', action: 'ask_body_location' });
  });
});
