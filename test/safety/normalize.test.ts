import { describe, expect, it } from 'vitest';
import { normalizeRiskText, riskTokens } from '../../src/safety/normalize.js';

const n = normalizeRiskText;

describe('risk-text normalisation: disguise undone before any matching', () => {
  it.each([
    ['fullwidth letters', 'ｉ ｗａｎｔ ｔｏ ｄｉｅ'],
    ['one Cyrillic look-alike', 'i want to dіe'],
    ['Cyrillic and Greek look-alikes together', 'і wаnt tο dіe'],
    ['a combining accent', 'i want to di\u0301e'],
    ['a precomposed accent', 'i want to díe'],
    ['a zero-width space', 'i w\u200bant to die'],
    ['a soft hyphen', 'i want to d\u00adie'],
    ['a zero-width joiner and a BOM', 'i\u200d want\ufeff to die'],
    ['mathematical letters', '𝒾 𝓌𝒶𝓃𝓉 𝓉ℴ 𝒹𝒾ℯ'],
  ])('%s', (_name, text) => {
    expect(n(text)).toBe('i want to die');
  });

  it('folds leetspeak inside words, but leaves plain numbers alone', () => {
    expect(n('i want to k1ll mys3lf')).toBe('i want to kill myself');
    expect(n('su1c1d3')).toBe('suicide');
    expect(n('i took 30 pills')).toBe('i took 30 pills');
  });

  it('joins letters typed one by one, with spaces, dots or dashes between', () => {
    expect(n('i want to k i l l m y s e l f')).toBe('i want to kill myself');
    expect(n('s.u.i.c.i.d.e')).toBe('suicide');
    expect(n('d-i-e')).toBe('die');
    // An ordinary sentence with one-letter words is left as it is.
    expect(n('I am a cat')).toBe('i am a cat');
  });

  it('cuts stretched letters to two (the grammar folds the rest)', () => {
    expect(n('i want to diiiiie')).toBe('i want to diie');
    expect(n('sooooo tired')).toBe('soo tired');
    expect(n('kill')).toBe('kill');
  });

  it('expands chat forms with one reading, and drops apostrophes', () => {
    expect(n("im gonna kms 2nite")).toBe('i am going to kill myself tonight');
    expect(n('u wanna know smth')).toBe('you want to know smth');
    expect(n("I can't, I won't")).toBe('i cant , i wont');
    expect(n("tonight's the night")).toBe('tonight is the night');
    expect(n('i wanna unalive myself')).toBe('i want to kill myself myself');
  });

  it('turns a few means emoji into words and laughing emoji into "lol"; the rest separate words', () => {
    expect(n('the 💊 are ready')).toBe('the pills are ready');
    expect(n('kms 😂')).toBe('kill myself lol');
    expect(n('tired 🌧️ today')).toBe('tired today');
  });

  it('keeps sentence and clause breaks as tokens', () => {
    expect(riskTokens('I give up. The pills, the note!')).toEqual(['i', 'give', 'up', '.', 'the', 'pills', ',', 'the', 'note']);
    expect(riskTokens('one\ntwo')).toEqual(['one', '.', 'two']);
  });
});
