import { describe, expect, it } from 'vitest';
import { Classifier } from '../../src/index.js';
import { PhraseMatcher } from '../../src/classifier/matcher.js';
import { normalize } from '../../src/text/normalize.js';
import { reflect } from '../../src/classifier/slots.js';
import { repoConfig } from '../helpers.js';

const classifier = new Classifier(repoConfig().classification);
const labelsOf = (t: string) => classifier.classify(t).labels;

describe('normalisation', () => {
  it('ignores case, punctuation, repeated whitespace and apostrophe style', () => {
    expect(normalize('  I CAN’T   sleep!!! ')).toBe('i cant sleep');
    expect(normalize("can't")).toBe(normalize('can’t'));
    expect(normalize("can't")).toBe(normalize('cant'));
    expect(normalize('Café—naïve')).toBe('cafe naive');
  });
});

describe('classifier', () => {
  it('compiles a few hundred phrases into one matcher', () => {
    expect(classifier.patternCount).toBeGreaterThan(300);
  });

  it('returns every matching label with spans into the original text', () => {
    const text = 'Work is HECTIC, and my chest feels tight right now.';
    const r = classifier.classify(text);
    expect(r.labels).toEqual(expect.arrayContaining(['problem_statement', 'body_location', 'sensation', 'present_feeling']));
    const spans = Object.fromEntries(r.matches.map((m) => [m.label, text.slice(m.start, m.end)]));
    expect(spans).toMatchObject({ problem_statement: 'HECTIC', body_location: 'chest', sensation: 'tight', present_feeling: 'right now' });
  });

  it('respects word boundaries', () => {
    expect(labelsOf('I love painting')).not.toContain('sensation');
    expect(labelsOf('it is a real pain')).toContain('sensation');
    expect(labelsOf('the heartland')).not.toContain('body_location');
  });

  it('treats curly, straight and missing apostrophes alike', () => {
    for (const t of ["I can't switch off", 'I can’t switch off', 'i cant switch off', 'I CAN‘T SWITCH OFF']) {
      expect(labelsOf(t), t).toContain('problem_statement');
    }
  });

  it('matches phrases across punctuation and extra whitespace', () => {
    expect(labelsOf('I want... to   feel, calm')).toContain('goal_statement');
  });

  it('supports word-ending wildcards (tight* matches tightness, not "at")', () => {
    const text = 'a tightness here';
    const m = classifier.classify(text).matches.find((x) => x.label === 'sensation')!;
    expect(text.slice(m.start, m.end)).toBe('tightness');
  });

  it('drops a match inside a longer one, so "not sure" is not agreement', () => {
    const r = labelsOf("I'm not sure");
    expect(r).toContain('disagreement');
    expect(r).not.toContain('agreement');
    expect(labelsOf('when I was a kid')).toEqual(['past_focus']);
  });

  it('gives computed labels to empty and very long messages', () => {
    expect(labelsOf('...')).toContain('silence');
    expect(labelsOf('🙂')).toContain('silence');
    expect(labelsOf(Array.from({ length: 130 }, (_, i) => `word${i}`).join(' '))).toContain('rambling');
    expect(labelsOf('a short message')).not.toContain('rambling');
  });

  it('extracts the wished-for feeling after a cue, stopping at the clause', () => {
    expect(classifier.classify('I want to feel calm and present, but work is hard').slots.desired_feeling).toBe('calm and present');
    expect(classifier.classify("honestly I'd just like to feel rested").slots.desired_feeling).toBe('rested');
  });

  it('does not take a negated wish as the goal', () => {
    const r = classifier.classify("I don't want to feel stressed, I want to feel calm");
    expect(r.slots.desired_feeling).toBe('calm');
  });

  it('falls back to a feeling word when there is no cue', () => {
    expect(classifier.classify('Confident, mostly').slots.desired_feeling).toBe('confident');
  });

  it('extracts the problem clause in the second person', () => {
    expect(classifier.classify("I'm stressed about my boss who keeps emailing me").slots.problem).toBe("you're stressed about your boss who keeps emailing you");
    expect(classifier.classify('Work is hectic. I want a break').slots.problem).toBe('work is hectic');
  });

  it('extracts body location and sensation words, lower-cased and without "my"', () => {
    const r = classifier.classify('A heavy ache in my LOWER BACK');
    expect(r.slots.body_location).toBe('lower back');
    expect(r.slots.sensation).toBe('heavy');
  });

  it('reflects first person into second person', () => {
    expect(reflect(['I', 'was', 'sure', 'my', 'mind', 'tricked', 'me']).join(' ')).toBe('you were sure your mind tricked you');
  });
});

describe('phrase matcher', () => {
  it('finds overlapping phrases of different groups in one pass', () => {
    const m = new PhraseMatcher([
      { phrase: 'want to feel', tag: 'a', group: 0 },
      { phrase: 'feel calm', tag: 'b', group: 1 },
      { phrase: 'calm', tag: 'c', group: 0 },
    ]);
    const r = m.scan('I want to feel calm');
    expect(r.matches.map((x) => x.tag).sort()).toEqual(['a', 'b', 'c']);
    expect(r.wordCount).toBe(5);
  });

  it('handles text longer than its internal buffers', () => {
    const m = new PhraseMatcher([{ phrase: 'needle', tag: 'n', group: 0 }]);
    const text = `${'hay '.repeat(5000)}needle`;
    const r = m.scan(text);
    expect(r.matches).toHaveLength(1);
    expect(text.slice(r.matches[0]!.start, r.matches[0]!.end)).toBe('needle');
  });
});
