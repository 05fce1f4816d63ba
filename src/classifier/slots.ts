/**
 * Slot extraction: the short phrases the fallback lines quote back ("so you
 * want to feel {desired_feeling}"). Works on spans the matcher already found,
 * so it costs nothing when no slot cue matched.
 */
import type { SlotSpec } from '../config/schemas.js';
import type { Match } from './matcher.js';
import { OTHER, SEP, SKIP, SYMBOL } from '../text/normalize.js';

/** Letter or digit, by the normaliser's table (a regex with \p{L} per word was the hot spot). */
const isWordCode = (c: number): boolean => {
  const s = SYMBOL[c]!;
  return s !== SEP && s !== SKIP && s <= OTHER;
};
const hasWordChar = (w: string): boolean => {
  for (let i = 0; i < w.length; i++) if (isWordCode(w.charCodeAt(i))) return true;
  return false;
};
/** Strips leading non-word characters and trailing ones other than apostrophes and hyphens. */
function trimWord(w: string): string {
  let a = 0;
  let b = w.length;
  while (a < b && !isWordCode(w.charCodeAt(a))) a++;
  while (b > a && !isWordCode(w.charCodeAt(b - 1)) && SYMBOL[w.charCodeAt(b - 1)] !== SKIP && w.charCodeAt(b - 1) !== 45) b--;
  return a === 0 && b === w.length ? w : w.slice(a, b);
}

/** Characters that end a clause. */
const CLAUSE_END = /[.!?;,\n:()]/;
const CLAUSE_END_CODES = new Set([...'.!?;,\n:()'].map((c) => c.charCodeAt(0)));
/** Per-character form of CLAUSE_END (slot extraction walks clauses character by character). */
const endsClause = (text: string, i: number): boolean => CLAUSE_END_CODES.has(text.charCodeAt(i));
/** Words that start a new clause, so a slot stops before them. */
const CLAUSE_BREAK = new Set(['but', 'because', 'although', 'though', 'cause', 'cos', 'since', 'unless', 'whereas', 'yet']);
/** Words a slot should not end on once it is cut short. */
const DANGLING = new Set([
  'and', 'or', 'to', 'of', 'the', 'a', 'an', 'your', 'my', 'with', 'at', 'in', 'on', 'for', 'but', 'so', 'that', 'is', 'are', 'was', 'very', 'really', 'more', 'just', 'when', 'than', 'like',
]);
/** Filler at the start of a clause ("well, ...", "um so ..."). */
const LEADING_FILLER = new Set(['well', 'um', 'umm', 'uh', 'so', 'and', 'like', 'honestly', 'basically', 'yeah', 'ok', 'okay']);

const REFLECT: Record<string, string> = {
  i: 'you', me: 'you', my: 'your', mine: 'yours', myself: 'yourself', im: "you're", "i'm": "you're", am: 'are',
  ive: "you've", "i've": "you've", "i'd": "you'd", id: "you'd", "i'll": "you'll", ill: "you'll", our: 'your', we: 'you', us: 'you', "we're": "you're", ourselves: 'yourselves',
};

/** Turns first person into second person: "my boss keeps emailing me" -> "your boss keeps emailing you". */
export function reflect(words: string[]): string[] {
  return words.map((w, i) => {
    const key = w.toLowerCase().replace(/[’‘]/g, "'");
    if (key === 'was' && i > 0 && ['i', 'you'].includes(words[i - 1]!.toLowerCase())) return 'were';
    return REFLECT[key] ?? w;
  });
}

function words(text: string): string[] {
  return text.split(/\s+/).filter(hasWordChar);
}

/** A first-person subject: after a few words it starts a new clause ("an email pings I tense up"). */
const NEW_SUBJECT = new Set(['i', "i'm", 'im', "i've", 'ive', "i'd", "i'll", 'i’m', 'i’ve', 'i’d', 'i’ll']);

/**
 * Trims to `max` words, stopping at a new clause and dropping a dangling last word. A clause
 * longer than `max` is not cut mid-way: it gives nothing (the line without the slot is used).
 */
function tidy(list: string[], max: number): string[] {
  const out: string[] = [];
  for (const w of list) {
    const key = w.toLowerCase();
    if (CLAUSE_BREAK.has(key)) break;
    // "my partner and I" is one subject; "an email pings I tense up" starts a new clause.
    if (out.length >= 2 && NEW_SUBJECT.has(key.replace(/[^\p{L}'’]/gu, '')) && out[out.length - 1]!.toLowerCase() !== 'and') break;
    if (out.length >= max) return [];
    out.push(trimWord(w));
  }
  while (out.length > 0 && DANGLING.has(out[out.length - 1]!.toLowerCase())) out.pop();
  return out.filter((w) => w.length > 0);
}

/** The text after `from` up to the end of its clause. */
function restOfClause(text: string, from: number): string {
  let end = from;
  while (end < text.length && !endsClause(text, end)) end++;
  return text.slice(from, end);
}

/** The whole clause around position `at`. */
export function clauseAround(text: string, at: number, endAt = at): string {
  let start = at;
  while (start > 0 && !endsClause(text, start - 1)) start--;
  let end = Math.max(endAt, at);
  while (end < text.length && !endsClause(text, end)) end++;
  return text.slice(start, end);
}

function finish(list: string[], spec: SlotSpec): string | undefined {
  // "like me again", "like I can breathe": there "like" is the phrase, not filler.
  const kept = (i: number) => list[0]!.toLowerCase() === 'like' && /^(me|myself|i|you|yourself|my|your|a|an)$/i.test(list[i + 1] ?? '');
  while (list.length > 0 && LEADING_FILLER.has(list[0]!.toLowerCase()) && !kept(0)) list.shift();
  let out = tidy(list, spec.max_words);
  if (spec.reflect) out = reflect(out);
  if (out.length === 0) return undefined;
  const value = out.join(' ');
  // Quoted mid-sentence, so start lower-case (keeps "I" out: reflected text has none).
  return value.charAt(0).toLowerCase() + value.slice(1);
}

/**
 * Fills one slot from the matches of a message. Order: a cue's following words,
 * then the clause around a label, then the matched word of a lexicon label.
 */
export function extractSlot(name: string, spec: SlotSpec, text: string, matches: readonly Match[]): string | undefined {
  const cueTag = slotCueTag(name);
  const cue = matches.find((m) => m.tag === cueTag);
  if (cue) {
    const value = finish(words(restOfClause(text, cue.end)), spec);
    if (value) return value;
  }
  if (spec.clause_of) {
    const hit = matches.find((m) => m.tag === spec.clause_of);
    if (hit) {
      const [start, end] = segmentAround(text, hit.start, hit.end);
      // A clause that holds another slot's cue is that slot's ("I want to be patient with my kids" is a goal).
      const foreign = matches.some((m) => m.tag !== cueTag && m.tag.startsWith('slot:') && m.start >= start && m.end <= end);
      const value = foreign ? undefined : finish(words(text.slice(start, end)), spec);
      if (value) return value;
    }
  }
  if (spec.lexicon) {
    const hit = matches.find((m) => m.tag === spec.lexicon);
    if (hit) {
      // "my chest" is quoted as "your {body_location}" by the lines, so drop the possessive.
      const matched = words(text.slice(hit.start, hit.end)).filter((w, i) => i > 0 || !/^(my|your)$/i.test(w));
      // "the knot's there": the word, not its possessive.
      return finish(matched.map((w) => w.toLowerCase().replace(/['’]s$/, '')), spec);
    }
  }
  return undefined;
}

/** The clause around a span, cut at the clause-breaking words ("but", "because") on either side. */
function segmentAround(text: string, at: number, endAt: number): [number, number] {
  const clause = clauseAround(text, at, endAt);
  let start = text.lastIndexOf(clause, at);
  if (start < 0) start = Math.max(0, at - clause.length);
  let end = start + clause.length;
  const re = /\S+/g;
  for (let m = re.exec(clause); m; m = re.exec(clause)) {
    if (!CLAUSE_BREAK.has(m[0].toLowerCase())) continue;
    const pos = start + m.index;
    if (pos + m[0].length <= at) start = pos + m[0].length;
    else if (pos >= endAt && pos < end) end = pos;
  }
  return [start, end];
}

/** Capture of a free answer: its first clause, tidied (and reflected when the slot says so). */
export function captureAnswer(spec: SlotSpec | undefined, text: string): string | undefined {
  const first = text.split(CLAUSE_END).find(hasWordChar) ?? '';
  const value = finish(words(first), spec ?? { max_words: 10, reflect: true, phrase_only: false, lexicon_only: false, unless: [] });
  return value && spec?.phrase_only && isClause(value) ? undefined : value;
}

/** Verbs that make a phrase a clause: "your boss is awful" is not a feeling. */
const CLAUSE_VERBS = new Set(['feel', 'want', 'would', "you'd", "i'd", 'is', 'are', 'was', 'were', 'am', 'be', 'been', "it's", "you're", 'has', 'have', 'had', 'keeps', 'gets', 'got', 'does', 'did', "can't", "won't", "don't", "isn't", "aren't", "wasn't", "doesn't", 'makes', 'made', 'said']);
const isClause = (value: string): boolean => value.toLowerCase().replace(/[’‘]/g, "'").split(/\s+/).some((w) => CLAUSE_VERBS.has(w));

/**
 * A slot from words someone else picked out of the message (an LLM's quote): tidied like any
 * capture, the possessive dropped from a place or a sensation ("my chest" is quoted as "your
 * {body_location}"), reflected when the slot says so.
 */
export function slotFromQuote(spec: SlotSpec | undefined, quote: string): string | undefined {
  const list = words(quote);
  if (spec?.lexicon && list.length > 1 && /^(my|the|your)$/i.test(list[0]!)) list.shift();
  return finish(list, spec ?? { max_words: 10, reflect: true, phrase_only: false, lexicon_only: false, unless: [] });
}

/** The matcher tag under which a slot's cue phrases are compiled. */
export function slotCueTag(slot: string): string {
  return `slot:${slot}`;
}

/** Words a quoted phrase cannot end on: it would be cut mid-clause ("you think it's", "tight and"). */
const FRAGMENT_END = new Set([
  ...DANGLING, 'it', "it's", 'its', 'i', "i'm", 'im', "you're", 'is', 'are', 'was', 'were', 'be', 'been', 'am', 'this', 'these', 'those', 'they', "they're",
  'he', 'she', 'we', 'do', 'does', 'did', 'have', 'has', 'had', 'will', 'would', 'can', 'could', 'should', 'think', "that's", "there's", 'if', 'because', 'not', 'no', 'about', 'as', 'by', 'from', 'into', 'feel', 'feeling', 'get', 'gets', 'kind', 'sort', 'bit',
  // Verbs that wait for what follows ("your mother used to say").
  'say', 'says', 'said', 'tell', 'tells', 'told', 'ask', 'asked', 'mean', 'means', 'want', 'wants', 'need', 'needs', 'know', 'make', 'makes', 'keep', 'keeps',
]);
/** Words that name nothing by themselves: a phrase made only of these is not a fact. */
const EMPTY = new Set([
  ...FRAGMENT_END, 'you', 'your', 'yours', 'me', 'my', 'that', 'there', 'here', 'thing', 'things', 'stuff', 'something', 'anything', 'everything', 'nothing', 'what', 'which', 'who', 'how', 'why', 'one',
  'yes', 'yeah', 'ok', 'okay', 'maybe', 'guess', 'know', "don't", 'dont', 'idk', 'hmm', 'um', 'sure', 'well', 'really', 'just', 'like', 'so', 'all', 'of', 'some', 'much', 'more', 'less', 'too',
]);
/** A phrase that opens on these is a clause fragment, not a fact ("it's like that", "when you think"). */
const FRAGMENT_START = new Set([
  "it's", 'its', 'it', 'that', "that's", 'this', "there's", 'when', 'whenever', 'if', 'because', 'cause', 'since', 'which', 'what', 'who', 'how', 'why', 'where',
  // A phrase quoted back never opens on the person's own "I": reflected slots have none, and an
  // unreflected one that does is a clause ("i need help"), not a feeling or a place.
  'i', "i'm", 'im', "i've", "i'd", "i'll", 'me',
  // A question's or a list's fragment ("is it normal to...", "or just anxious people", "with your children").
  'is', 'are', 'am', 'do', 'does', 'did', 'can', 'could', 'should', 'would', 'will', 'was', 'were', 'shall', 'or', 'and', 'but', 'so', 'then', 'with', 'for', 'about', 'of', 'to', 'from', 'by',
]);
/** Not knowing is not a fact ("you don't know what").*/
const NOT_KNOWING = /\b(don'?t|do not|dunno|no) (know|idea)\b|\bnot sure\b/;

/**
 * True when a slot value can be quoted back mid-sentence: a short phrase that names something,
 * not a pronoun fragment ("you think it's"), a clause cut mid-way ("tight and") or a question.
 * Only clean values are ever stored, and a line is only filled with clean ones.
 */
export function isCleanSlot(value: string | undefined): boolean {
  if (!value) return false;
  // Every line and every summary phrase asks about the same few values each turn: remember them.
  const known = cleanCache.get(value);
  if (known !== undefined) return known;
  const clean = judgeSlot(value);
  if (cleanCache.size >= CLEAN_CACHE_MAX) cleanCache.clear();
  cleanCache.set(value, clean);
  return clean;
}
const CLEAN_CACHE_MAX = 4096;
const cleanCache = new Map<string, boolean>();

function judgeSlot(value: string): boolean {
  if (/[?{}<>]/.test(value)) return false;
  const list = value
    .toLowerCase()
    .replace(/[’‘]/g, "'")
    .split(/\s+/)
    .map((w) => w.replace(/^[^\p{L}\p{N}']+|[^\p{L}\p{N}']+$/gu, ''))
    .filter((w) => w.length > 0);
  if (list.length === 0) return false;
  if (FRAGMENT_END.has(list[list.length - 1]!) || FRAGMENT_START.has(list[0]!)) return false;
  if (['what', 'how', 'why', 'where', 'who', 'which'].includes(list[list.length - 1]!) || NOT_KNOWING.test(list.join(' '))) return false;
  return list.some((w) => !EMPTY.has(w));
}

const NO_QUESTION = { shape: 'no', question: '' } as const;

/** Words that open a question ("should I close my eyes?", "is this therapy?"). */
const ASKING = new Set(['what', 'why', 'how', 'when', 'where', 'who', 'which', 'should', 'shall', 'can', 'could', 'would', 'will', 'is', 'are', 'am', 'do', 'does', 'did', 'was', 'were', 'have', 'has', 'may', 'might', 'must', 'isnt', "isn't", 'arent', "aren't", 'dont', "don't", 'doesnt', "doesn't"]);

/**
 * How a message reads as a question: 'only' when it is nothing but one ("should I close my
 * eyes for this?"), 'ends' when its last sentence is one, else 'no'. A tentative answer with a
 * question mark ("legs maybe?", "restless?") is not a question: it has no asking word.
 */
export function questionShape(text: string): 'only' | 'ends' | 'no' {
  return questionParts(text).shape;
}

/** The question shape, and the question itself (the last sentence) when there is one. */
export function questionParts(text: string): { shape: 'only' | 'ends' | 'no'; question: string } {
  if (!text.includes('?')) return NO_QUESTION;
  const sentences = text.trim().split(/(?<=[.!?])\s+/).filter((s) => /[\p{L}\p{N}]/u.test(s));
  const last = sentences[sentences.length - 1];
  if (!last || !last.trimEnd().endsWith('?')) return { shape: 'no', question: '' };
  const words = last.toLowerCase().replace(/[’‘]/g, "'").split(/[\s,]+/).slice(0, 3).map((w) => w.replace(/[^\p{L}']/gu, ''));
  if (!words.some((w) => ASKING.has(w)) && !/\bor\b/i.test(last)) return { shape: 'no', question: '' };
  return { shape: sentences.length === 1 ? 'only' : 'ends', question: last.toLowerCase() };
}
