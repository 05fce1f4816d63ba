/**
 * Clean slots, on a fixture written for the project (test/fixtures/slot-values.json): each
 * message with the slot values a careful reader would accept (or none). The message goes
 * through the classifier and the navigator as the engine sends it: as the answer to the
 * question for `asked`, or, without it, while the guide is on the vision (so anything it
 * states is a fact given early). What the navigator keeps as slots is compared.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Classifier, Navigator, type NavState } from '../../src/index.js';
import { isFragment } from '../../src/eval/conversations.js';
import { ROOT, repoConfig } from '../helpers.js';

interface Entry {
  text: string;
  asked?: string;
  expect: Record<string, string[] | null>;
}
const fixture = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'slot-values.json'), 'utf8')) as { messages: Entry[] };
const SLOTS = ['desired_feeling', 'problem', 'body_location', 'sensation', 'trigger', 'body_after'];

const config = repoConfig();
const classifier = new Classifier(config.classification);
const navigator = new Navigator(config.navigation, config.classification);

/** Where the guide is when it has just asked for `slot`. */
function askedFor(slot: string | undefined): NavState {
  const at = (substate: string, criteriaMet: string[] = []): NavState => ({ ...navigator.initialState(), substate, criteriaMet });
  switch (slot) {
    case 'desired_feeling':
      return at('1.1_goal');
    case 'problem':
      return at('1.4_problem_and_body');
    case 'body_location':
      return at('1.4_problem_and_body', ['problem_named']);
    case 'sensation':
      return at('1.4_problem_and_body', ['problem_named', 'body_location_found']);
    case 'trigger':
      return at('1.4_problem_and_body', ['problem_named', 'body_location_found', 'sensation_described', 'felt_now']);
    case 'body_after':
      return at('1.5_readiness', ['ready_to_continue', 'relaxation_completed']);
    default:
      return at('1.2_vision');
  }
}

const norm = (s: string) => s.toLowerCase().replace(/[’‘]/g, "'").replace(/\s+/g, ' ').trim();

function slotsOf(e: Entry): Record<string, string> {
  const d = navigator.navigate({ state: askedFor(e.asked), classification: classifier.classify(e.text), slots: {}, text: e.text });
  return d.captured;
}

describe('slot values (test/fixtures/slot-values.json)', () => {
  it('has at least 150 messages, a third of them answers to a question', () => {
    expect(fixture.messages.length).toBeGreaterThanOrEqual(150);
    expect(fixture.messages.filter((m) => m.asked).length).toBeGreaterThanOrEqual(50);
  });

  it('never keeps a fragment; fills a slot the message does not give for at most 5% of messages (idioms like "doing my head in")', () => {
    const fragments: string[] = [];
    const unexpected: string[] = [];
    for (const e of fixture.messages) {
      const got = slotsOf(e);
      for (const slot of SLOTS) {
        const value = got[slot];
        if (value === undefined) continue;
        if (isFragment(value)) fragments.push(`${slot}="${value}" <- ${e.text}`);
        else if (!e.expect[slot]) unexpected.push(`${slot}="${value}" <- ${e.text}`);
      }
    }
    expect(fragments).toEqual([]);
    expect(unexpected.length / fixture.messages.length, unexpected.join('\n')).toBeLessThanOrEqual(0.05);
  });

  it('fills the slots a message gives with an accepted value for at least 72% of them (75% measured), a wrong one for at most 10%', () => {
    let wanted = 0;
    let right = 0;
    const wrong: string[] = [];
    for (const e of fixture.messages) {
      const got = slotsOf(e);
      for (const [slot, accepted] of Object.entries(e.expect)) {
        if (!accepted) continue;
        wanted++;
        const value = got[slot];
        if (value === undefined) continue;
        if (accepted.map(norm).includes(norm(value))) right++;
        else wrong.push(`${slot}="${value}" (accepted: ${accepted.join(' | ')}) <- ${e.text}`);
      }
    }
    expect(wrong.length / wanted, wrong.join('\n')).toBeLessThanOrEqual(0.1);
    expect(right / wanted).toBeGreaterThanOrEqual(0.72);
  });
});
