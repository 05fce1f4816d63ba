import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadEngineConfig } from '../../src/index.js';
import { CrisisCheck } from '../../src/safety/crisis-check.js';
import { RiskGrammar } from '../../src/safety/grammar/risk-grammar.js';
import { expandPhrase, inflections } from '../../src/safety/grammar/lexicon.js';
import { riskTokens } from '../../src/safety/normalize.js';
import { CONFIG_DIR, repoConfig } from '../helpers.js';

const config = repoConfig();
const grammar = new RiskGrammar(config.riskGrammar);
// The grammar alone: these tests are about its frames and rules, not the trained model.
const check = new CrisisCheck(config.safety, config.riskGrammar);
const fired = (text: string) => grammar.analyse(riskTokens(text));
const tier = (text: string) => {
  const r = check.assess(text);
  return r.risk ? 'risk' : r.possible ? 'possible' : null;
};

describe('risk grammar: every frame catches its own examples', () => {
  const frames = config.riskGrammar.frames.filter((f) => f.tier !== 'cue');
  it('every risk and possible frame has examples', () => {
    expect(frames.filter((f) => f.examples.length === 0).map((f) => f.id)).toEqual([]);
  });
  it.each(frames.flatMap((f) => f.examples.map((e) => [f.id, f.tier, e] as const)))('%s (%s): %s', (id, t, example) => {
    const r = fired(example);
    expect(r.fired).toContain(id);
    // The frame's own tier or stronger (another frame may make it a risk).
    expect(['risk', t]).toContain(tier(example));
  });
});

describe('risk grammar: scope rules', () => {
  it.each([
    "I'm not suicidal",
    "I would never kill myself",
    "I don't want to die",
    'killing myself has never crossed my mind',
    "I'm not going to hurt myself",
    'no thoughts of ending my life, I promise',
    "I no longer want to die, the meds helped",
  ])('negation cancels: %s', (text) => {
    expect(tier(text)).toBeNull();
  });

  it.each([
    'never mind, I want to die',
    'not sure why but I want to die',
    "not gonna lie i want to die",
    "I can't promise I won't hurt myself",
    "I don't want to live anymore",
    "no one would miss me",
  ])('negation does not reach across a clause or into the frame: %s', (text) => {
    expect(tier(text)).toBe('risk');
  });

  it.each([
    'my friend says she wants to die, how do I help her',
    'the main character wants to die in the last episode',
    'my brother tried to kill himself last year',
    'my therapist asked if I was suicidal',
    'this meeting is killing me',
    'this weather makes me want to die',
  ])('someone or something else is the subject: %s', (text) => {
    expect(tier(text)).toBeNull();
  });

  it.each([
    "I'll die of embarrassment",
    "I'm dying to see the new film",
    'I would die for my kids',
    'I want to die laughing at that video',
    'I could kill for a coffee',
    'I nearly killed myself tripping over the cat',
    'I cut myself shaving',
    'my back is killing me',
    "I'm going to die alone with ten cats",
    'suicide prevention week starts Monday',
    "I'm going to die if I don't get a coffee",
    "I don't want to wake up early tomorrow",
    'I want to see Japan before I die',
  ])('hyperbole, idioms and everyday uses: %s', (text) => {
    expect(tier(text)).toBeNull();
  });

  it('an idiom does not reach across a sentence break', () => {
    expect(tier('I want to die laughing at that video')).toBeNull();
    expect(tier('I want to die. Laughing at it is all I have left')).toBe('risk');
  });

  it('a joke marker turns a risk into a check-in, never into nothing', () => {
    expect(tier('i want to die lol')).toBe('possible');
    expect(tier('kms 😂')).toBe('possible');
    expect(tier('I want to die')).toBe('risk');
  });

  it('self-harm is its own kind; crisis outranks it', () => {
    expect(check.assess('I cut myself last night').risk).toBe('self_harm');
    expect(check.assess('I cut myself last night and I want to die').risk).toBe('crisis');
  });

  it('disguised text reaches the same frames', () => {
    for (const text of ['ｉ ｗａｎｔ ｔｏ ｄｉｅ', 'i want to dіe', 'i want to di\u0301e', 'i want to k1ll mys3lf', 'i want to k i l l myself', 'i w\u200bant to die', 'i waaaant to diiiie']) {
      expect(tier(text), text).toBe('risk');
    }
  });

  it('folds typos and stretched words onto the lexicon', () => {
    expect(tier('i want to kil myslef')).toBe('risk');
    expect(tier('thinkin about endin it all')).toBe('risk');
    expect(tier('im suicidel')).toBe('risk');
    expect(tier('i want to k*ll myself')).toBe('risk');
  });
});

describe('risk grammar: context of the last few messages', () => {
  it('hopelessness in one message and means at hand in the next are a risk together', () => {
    const first = check.assess("I can't do this anymore");
    expect(first.risk).toBeNull();
    expect(first.cues).toContain('hopeless');
    const second = check.assess('the pills are on the table', [first.cues]);
    expect(second.risk).toBe('crisis');
    expect(second.reasons.some((r) => r.startsWith('ctx_'))).toBe(true);
    // Alone, the second message is only a check-in.
    expect(check.assess('the pills are on the table')).toMatchObject({ risk: null, possible: 'crisis' });
  });

  it('cues older than the window do not count, and an ordinary message brings none', () => {
    const hopeless = check.assess("I can't do this anymore").cues;
    const window = config.riskGrammar.context.window;
    const old = [hopeless, ...Array.from({ length: window }, () => [] as string[])];
    expect(check.assess('the pills are on the table', old).risk).toBeNull();
    expect(check.assess('my shoulders feel tight', [hopeless]).risk).toBeNull();
  });
});

describe('check-in answers', () => {
  it.each([
    ['yes', 'yes'],
    ['yeah sometimes', 'yes'],
    ['i dont know', 'unclear'],
    ['no', 'no'],
    ['no, not at all', 'no'],
    ["no I'm not, just tired", 'no'],
    ["I'm safe", 'no'],
    ['no... well sometimes', 'unclear'],
    ['my chest feels tight', 'unclear'],
  ])('%s -> %s', (text, answer) => {
    expect(check.assess(text).answer).toBe(answer);
  });
});

describe('risk grammar: the lexicon', () => {
  it('expands alternatives, empty alternatives and inflections', () => {
    expect(expandPhrase('take my {own|} life').sort()).toEqual(['take my life', 'take my own life']);
    expect(expandPhrase('{a lot of|many} pills').sort()).toEqual(['a lot of pills', 'many pills']);
    expect(inflections('die')).toEqual(expect.arrayContaining(['dies', 'died', 'dying']));
    expect(inflections('cut')).toEqual(expect.arrayContaining(['cuts', 'cutting']));
    expect(inflections('end')).toEqual(expect.arrayContaining(['ends', 'ended', 'ending']));
    // Dropped g's are folded at lookup ("endin" -> "ending"), not listed.
    expect(tier('im endin it tonight')).toBe('risk');
  });
});

describe('risk grammar config: problems name the file and the JSON path', () => {
  function brokenGrammar(edit: (g: Record<string, any>) => void): string[] {
    const dir = mkdtempSync(join(tmpdir(), 'grammar-'));
    cpSync(CONFIG_DIR, dir, { recursive: true });
    const file = join(dir, 'system', 'core_system', 'risk_grammar.json');
    const g = JSON.parse(readFileSync(file, 'utf8'));
    edit(g);
    writeFileSync(file, JSON.stringify(g));
    try {
      loadEngineConfig(dir);
      return [];
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return err.problems.map((p) => `${p.file.endsWith('risk_grammar.json') ? 'risk_grammar.json' : p.file}: ${p.path}: ${p.message}`);
    }
  }

  it('an unknown class in a pattern', () => {
    expect(brokenGrammar((g) => (g.frames[0].pattern = 'INTENT ~3 DEATHH'))).toEqual(['risk_grammar.json: $.frames[0].pattern: class "DEATHH" is not defined']);
  });
  it('a pattern that does not parse', () => {
    const problems = brokenGrammar((g) => (g.frames[1].pattern = '~2 DEATH'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^risk_grammar\.json: \$\.frames\[1\]\.pattern: /);
  });
  it('nested alternatives, and a context rule naming no frame', () => {
    const problems = brokenGrammar((g) => {
      g.classes.DEATH.phrases.push('{a {b|c}|d}');
      g.context.rules[0].all[0] = 'no_such_frame';
    });
    expect(problems).toEqual([
      expect.stringMatching(/^risk_grammar\.json: \$\.classes\.DEATH\.phrases\[\d+\]: alternatives cannot nest/),
      'risk_grammar.json: $.context.rules[0].all[0]: frame "no_such_frame" is not defined (or "model")',
    ]);
  });
});

describe('risk grammar: surface forms written apart from the word lists (test/fixtures/risk-grammar-forms.json)', () => {
  const forms = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'risk-grammar-forms.json'), 'utf8')) as {
    frames: Record<string, { must: string[]; must_not: string[] }>;
  };
  const must = Object.entries(forms.frames).flatMap(([id, f]) => f.must.map((t) => [id, t] as const));
  const mustNot = Object.entries(forms.frames).flatMap(([id, f]) => f.must_not.map((t) => [id, t] as const));
  it.each(must)('%s catches: %s', (_id, text) => {
    expect(tier(text)).not.toBeNull();
  });
  it.each(mustNot)('%s leaves alone: %s', (_id, text) => {
    expect(tier(text)).toBeNull();
  });
});

describe('risk grammar: known limits stay documented (test/fixtures/risk-grammar-forms.json known_limits)', () => {
  const forms = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'risk-grammar-forms.json'), 'utf8')) as {
    known_limits: Array<{ text: string; flagged: boolean; why: string }>;
  };
  it.each(forms.known_limits.map((l) => [l.text, l.flagged] as const))('%s (flagged: %s)', (text, flagged) => {
    expect(tier(text) !== null).toBe(flagged);
  });
});

describe('risk grammar: reviewed base config only', () => {
  it('no override document may carry the risk grammar or the safety protocol', async () => {
    const { LayerSchema } = await import('../../src/overrides/override-doc.js');
    for (const part of ['riskGrammar', 'safety']) {
      const r = LayerSchema.safeParse({ config: { [part]: { frames: [] } } });
      expect(r.success, part).toBe(false);
    }
    expect(LayerSchema.safeParse({ config: { responses: {} } }).success).toBe(true);
  });
});
