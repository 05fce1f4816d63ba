/**
 * Risk-text normalisation: what the crisis check reads instead of the raw message.
 *
 * Two jobs, in this order:
 *  1. Undo disguise. NFKC (fullwidth and mathematical letters), combining marks removed,
 *     zero-width characters and soft hyphens dropped, Cyrillic and Greek look-alikes folded
 *     to Latin, leetspeak inside words ("k1ll", "d13"), letters spaced out ("k i l l",
 *     "s.u.i.c.i.d.e"), and runs of a repeated letter cut to two ("diiiie" -> "diie"; the
 *     grammar's lookup folds the rest).
 *  2. Canonical chat forms. Apostrophes vanish ("can't" = "cant"), unambiguous chat forms
 *     expand ("gonna" -> "going to", "u" -> "you", "2" -> "to", "kms" -> "kill myself"), and a
 *     few emoji that name a means become words.
 *
 * The result is a list of lower-case tokens with `.` for a sentence break and `,` for a
 * clause break. Both the risk grammar and the trained model read it, so what one is
 * trained on the other is matched on. It runs on every message: ASCII text takes the fast
 * path (no Unicode normalisation), and the work is a handful of linear passes.
 */

/** Sentence break token. */
export const SENTENCE = '.';
/** Clause break token. */
export const CLAUSE = ',';

const NON_ASCII = /[^\x00-\x7f]/;
// Zero-width space/joiners, word joiner, invisible operators, BOM, soft hyphen, Mongolian vowel separator.
const INVISIBLE = /[\u200b-\u200f\u2060-\u2064\ufeff\u00ad\u180e\u034f]/g;
const MARKS = /\p{M}+/gu;
const SH_CONTRACTED = /\b(sh|od)['\u2019](d|ed|ing)\b/g;

/** Cyrillic and Greek letters that look like Latin ones (lower case after folding). */
const HOMOGLYPHS: Record<string, string> = {
  // Cyrillic
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  і: 'i', ї: 'i', ј: 'j', ѕ: 's', ԁ: 'd', ӏ: 'l', ԛ: 'q', ԝ: 'w', ь: 'b', г: 'r', п: 'n', и: 'u', л: 'n', ц: 'u', ш: 'w', д: 'a',
  // Greek
  α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', ς: 's', σ: 'o', μ: 'u', ω: 'w', γ: 'y', λ: 'l', δ: 'd', θ: 'o',
  // Latin look-alikes outside a-z
  ı: 'i', ɡ: 'g', ɑ: 'a', ł: 'l', ø: 'o', đ: 'd', ß: 'ss', æ: 'ae', œ: 'oe',
};
const HOMOGLYPH_RE = new RegExp(`[${Object.keys(HOMOGLYPHS).join('')}]`, 'g');

/** Emoji that name a means, as words; every other symbol separates words. */
const EMOJI_WORDS: Array<[RegExp, string]> = [
  [/\u{1f48a}/gu, ' pills '],
  [/\u{1f52a}|\u{1f5e1}/gu, ' knife '],
  [/\u{1faa2}/gu, ' rope '],
  [/\u{1f52b}/gu, ' gun '],
  [/\u{26b0}|\u{1faa6}/gu, ' grave '],
  [/\u{1fa78}/gu, ' blood '],
  // Laughing, skull ("I'm dead" as in laughing) and eye-roll: joke markers, read like "lol".
  [/[\u{1f602}\u{1f923}\u{1f480}\u{2620}\u{1f644}\u{1f606}\u{1f605}\u{1f92a}\u{1f61c}\u{1f61d}]/gu, ' lol '],
];
const HAS_EMOJI = /[\u{1f300}-\u{1faff}\u{2600}-\u{27bf}]/u;

/** Leetspeak digits inside a word that also has letters. */
const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '9': 'g', '@': 'a', $: 's', '!': 'i' };

/**
 * Chat forms with one reading, expanded to words. Ambiguous ones stay as typed and are left
 * to the grammar's word classes ("ill" is "I'll" or "sick"; "sh" is self-harm or "shh").
 */
const CHAT_FORMS: Record<string, string> = {
  im: 'i am', ima: 'i am going to', imma: 'i am going to', ive: 'i have', id: 'i would', iam: 'i am',
  gonna: 'going to', gunna: 'going to', gna: 'going to', finna: 'going to', wanna: 'want to', wana: 'want to', wannna: 'want to',
  gotta: 'have to', tryna: 'trying to', hafta: 'have to', oughta: 'ought to', lemme: 'let me', gimme: 'give me',
  u: 'you', ya: 'you', yu: 'you', ur: 'your', r: 'are', '2': 'to', '4': 'for', n: 'and', b4: 'before', bc: 'because', cuz: 'because', coz: 'because', cos: 'because', bcoz: 'because', bcuz: 'because',
  pls: 'please', plz: 'please', rn: 'right now', atm: 'at the moment', tn: 'tonight', tonite: 'tonight', '2nite': 'tonight', '2night': 'tonight', '2day': 'today', '2moro': 'tomorrow', '2morrow': 'tomorrow', tmrw: 'tomorrow', tmr: 'tomorrow', tmrw2: 'tomorrow',
  bout: 'about', abt: 'about', ded: 'dead', ppl: 'people', hw: 'how', rite: 'right', wud: 'would', cud: 'could', shud: 'should', b: 'be', ovr: 'over', msg: 'message', urself: 'yourself',
  // Typos too short for the grammar's one-typo folding (it needs five letters).
  dnot: 'dont', dnt: 'dont', cnat: 'cant', cnt: 'cant', wnat: 'want', wnt: 'want', slef: 'self', urg: 'urge', rop: 'rope', ledg: 'ledge', hihg: 'high', gudbye: 'goodbye', gbye: 'goodbye', kil: 'kill', dye: 'die', pils: 'pills',
  idk: 'i do not know', idc: 'i do not care', idgaf: 'i do not care', ngl: 'not going to lie', tbh: 'to be honest', tbf: 'to be fair', imo: 'in my opinion', fr: 'for real', srsly: 'seriously', rly: 'really', thx: 'thanks', ty: 'thank you', bye4now: 'bye for now',
  dunno: 'do not know', kinda: 'kind of', sorta: 'sort of', outta: 'out of', aint: 'am not',
  kms: 'kill myself', kmss: 'kill myself', kys: 'kill yourself', unalive: 'kill myself', unaliving: 'killing myself', unalived: 'killed myself', sewerslide: 'suicide', suicde: 'suicide', sucide: 'suicide', suicid: 'suicide', suiside: 'suicide', suicidle: 'suicidal', sucidal: 'suicidal', suicdal: 'suicidal', suisidal: 'suicidal',
  myslef: 'myself', mysef: 'myself', myselff: 'myself', meself: 'myself', mysel: 'myself', myselfe: 'myself', my5elf: 'myself',
  // "'s" contractions (the apostrophe is gone by now): "tonight's the night" is "tonight is the night".
  thats: 'that is', whats: 'what is', whatevers: 'whatever is', theres: 'there is', tonights: 'tonight is', hes: 'he is', shes: 'she is', wheres: 'where is', heres: 'here is', whos: 'who is', lifes: 'life is', everyones: 'everyone is', nothings: 'nothing is', its: 'it is', todays: 'today is', hows: 'how is',
  od: 'overdose', oding: 'overdosing',
};

/** Words the letter-by-letter form ("k i l l m y s e l f") is split back into. */
const SEGMENT_WORDS = [
  'i', 'a', 'am', 'me', 'my', 'myself', 'to', 'want', 'wanna', 'going', 'gonna', 'will', 'kill', 'die', 'dead', 'death', 'suicide', 'suicidal',
  'end', 'it', 'all', 'life', 'my', 'cut', 'hurt', 'harm', 'self', 'overdose', 'pills', 'hang', 'jump', 'unalive', 'kms', 'live', 'alive',
  'anymore', 'not', 'be', 'here', 'do', 'dont', 'cant', 'go', 'on', 'off', 'top', 'just', 'so', 'the', 'burden', 'rope', 'gun', 'note', 'goodbye',
  'hopeless', 'worthless', 'alone', 'bridge', 'cut', 'cutting', 'knife', 'blade', 'ending', 'killing', 'over', 'gone', 'bye', 'want', 'wanna',
];
const SEGMENT_SET = new Set(SEGMENT_WORDS);
const SEGMENT_MAX = Math.max(...SEGMENT_WORDS.map((w) => w.length));

const REPEATS = /([a-z])\1{2,}/g;

/** Folds disguise (see the file comment) and returns lower-case text; word breaks stay as typed. */
function foldDisguise(text: string): string {
  let t = text;
  if (NON_ASCII.test(t)) {
    if (HAS_EMOJI.test(t)) for (const [re, word] of EMOJI_WORDS) t = t.replace(re, word);
    t = t.normalize('NFKC').replace(INVISIBLE, '').normalize('NFD').replace(MARKS, '').toLowerCase();
    t = t.replace(HOMOGLYPH_RE, (c) => HOMOGLYPHS[c]!);
    // NFKC turns some symbols into ASCII letters already; what is left outside ASCII separates words.
  } else {
    t = t.toLowerCase();
  }
  // "sh'd" / "od'd" are self-harmed / overdosed only while the apostrophe shows it ("shd" is "should", "odd" is odd).
  if (t.includes("'") || t.includes('\u2019')) {
    t = t.replace(SH_CONTRACTED, (_m, what: string, end: string) => `${what === 'sh' ? 'self harm' : 'overdos'}${end === 'ing' ? 'ing' : 'ed'}`);
  }
  return t;
}

// Character kinds for the tokeniser's one pass.
const K_SEP = 0;
const K_LETTER = 1;
const K_DIGIT = 2;
const K_SKIP = 3; // apostrophes: vanish inside a word
const K_SENTENCE = 4;
const K_CLAUSE = 5;
const K_LIGHT = 6; // . - _ * · between letters typed one by one
const K_LEET = 7; // @ $ ! inside a word
const KIND = new Uint8Array(65536);
for (let c = 97; c <= 122; c++) KIND[c] = K_LETTER;
for (let c = 48; c <= 57; c++) KIND[c] = K_DIGIT;
for (const c of "'\u2019\u2018\u02bc`\u00b4\u2032") KIND[c.charCodeAt(0)] = K_SKIP;
for (const c of '!?;\n') KIND[c.charCodeAt(0)] = K_SENTENCE;
for (const c of ',:()\u2013\u2014') KIND[c.charCodeAt(0)] = K_CLAUSE;
for (const c of '-_*\u00b7') KIND[c.charCodeAt(0)] = K_LIGHT;
for (const c of '@$') KIND[c.charCodeAt(0)] = K_LEET;
const DOT = 46;
const APOSTROPHE_RE = /['\u2019\u2018\u02bc`\u00b4\u2032]/g;
const BANG = 33;
const CHAT = new Map(Object.entries(CHAT_FORMS));
// First letter x length of every chat form: most words skip the map lookup on one bit test.
const CHAT_SHAPES = new Uint32Array(128);
for (const k of CHAT.keys()) CHAT_SHAPES[k.charCodeAt(0) & 127]! |= 1 << Math.min(k.length, 31);
const maybeChat = (w: string) => (CHAT_SHAPES[w.charCodeAt(0) & 127]! & (1 << Math.min(w.length, 31))) !== 0;

// The first pass's words and what stood before each, reused across calls (the check is synchronous).
let rawWords: string[] = [];
let rawBreak = new Uint8Array(256); // 0 nothing, 1 a clause break, 2 a sentence break before the word
let rawLight = new Uint8Array(256); // only spaces and light marks (. - _ * ·), two at most, since the previous word

/** The canonical token list of a message (see the file comment). One pass over the characters, then one over the words. */
export function riskTokens(text: string): string[] {
  const t = foldDisguise(text);
  const n = t.length;
  // Plain locals, no closure: the loop below runs once per character of every message.
  let count = 0;
  let start = -1;
  let apostrophe = false;
  let brk = 0;
  let gap = 0;
  let light = 1;
  if (rawBreak.length < n + 1) {
    rawBreak = new Uint8Array(2 * n + 2);
    rawLight = new Uint8Array(2 * n + 2);
  }
  for (let i = 0; i <= n; i++) {
    const c = i < n ? t.charCodeAt(i) : 32;
    let k = i < n ? KIND[c]! : K_SEP;
    // A leetspeak or censoring mark inside a word is part of it ("k!ll", "b@d", "k*ll").
    if ((k === K_LEET || c === BANG || c === 42) && start >= 0 && i + 1 < n && KIND[t.charCodeAt(i + 1)] === K_LETTER) k = K_LETTER;
    if (k === K_LETTER || k === K_DIGIT) {
      if (start < 0) start = i;
      continue;
    }
    if (k === K_SKIP && start >= 0) {
      apostrophe = true;
      continue;
    }
    if (start >= 0) {
      const w = t.slice(start, i);
      rawWords[count] = apostrophe ? w.replace(APOSTROPHE_RE, '') : w;
      rawBreak[count] = brk;
      rawLight[count] = light;
      count++;
      start = -1;
      apostrophe = false;
      brk = 0;
      gap = 0;
      light = 1;
    }
    if (i === n) break;
    gap++;
    if (c === DOT) {
      brk = 2;
      if (gap > 2) light = 0;
    } else if (k === K_SENTENCE) {
      brk = 2;
      light = 0;
    } else if (k === K_CLAUSE) {
      if (brk === 0) brk = 1;
      light = 0;
    } else if (k === K_LIGHT) {
      if (gap > 2) light = 0;
    } else if (c !== 32 || gap > 2) light = 0;
  }

  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const w = rawWords[i]!;
    // Letters typed one by one ("k i l l", "s.u.i.c.i.d.e"): three or more in a light run become words again.
    let j = i;
    if (w.length === 1 && isLetter(w)) {
      while (j + 1 < count && rawWords[j + 1]!.length === 1 && isLetter(rawWords[j + 1]!) && rawLight[j + 1] === 1) j++;
    }
    if (rawBreak[i] !== 0 && out.length > 0) pushBreak(out, rawBreak[i] === 2 ? SENTENCE : CLAUSE);
    if (j - i >= 2) {
      let letters = '';
      for (let m = i; m <= j; m++) letters += rawWords[m]!;
      for (const piece of segment(letters).split(' ')) pushWord(out, piece);
      i = j;
      continue;
    }
    pushWord(out, w);
  }
  if (rawWords.length > 4096) rawWords = [];
  return out;
}

function isLetter(w: string): boolean {
  const c = w.charCodeAt(0);
  return c >= 97 && c <= 122;
}

function pushBreak(out: string[], brk: string): void {
  const last = out[out.length - 1];
  if (last === SENTENCE) return;
  if (last === CLAUSE) {
    if (brk === SENTENCE) out[out.length - 1] = SENTENCE;
    return;
  }
  out.push(brk);
}

/** The token list as one string, for the trained model's features. */
export function normalizeRiskText(text: string): string {
  return riskTokens(text).join(' ');
}

function pushWord(out: string[], raw: string): void {
  let w = raw;
  let digits = false;
  let letters = false;
  let marks = false;
  let run = 1;
  let stretched = false;
  for (let i = 0; i < w.length; i++) {
    const c = w.charCodeAt(i);
    if (c >= 48 && c <= 57) digits = true;
    else if (c >= 97 && c <= 122) letters = true;
    else marks = true;
    if (i > 0 && c === w.charCodeAt(i - 1)) {
      if (++run >= 3) stretched = true;
    } else run = 1;
  }
  if (((digits && letters) || marks) && !(maybeChat(w) && CHAT.has(w))) w = w.replace(/[0-9@$!]/g, (d) => LEET[d] ?? d);
  if (marks && w.includes('*')) w = w.replace(/^\*+|\*+$/g, '');
  if (w.length === 0) return;
  if (stretched && w.length > 2) w = w.replace(REPEATS, '$1$1');
  const expanded = maybeChat(w) ? CHAT.get(w) : undefined;
  if (expanded === undefined) {
    out.push(w);
    return;
  }
  for (const part of expanded.split(' ')) out.push(part);
}

/** Splits letters typed one by one back into words (longest known word first); unknown runs stay whole. */
function segment(letters: string): string {
  const s = letters.toLowerCase();
  // best[i]: fewest pieces covering s[0..i); unknown letters cost a piece each, so known words win.
  const best = new Array<number>(s.length + 1).fill(Infinity);
  const cut = new Array<number>(s.length + 1).fill(0);
  const known = new Array<boolean>(s.length + 1).fill(false);
  best[0] = 0;
  for (let i = 1; i <= s.length; i++) {
    for (let j = Math.max(0, i - SEGMENT_MAX); j < i; j++) {
      const piece = s.slice(j, i);
      const isWord = SEGMENT_SET.has(piece);
      const cost = best[j]! + (isWord ? 1 : 3 * piece.length);
      if (cost < best[i]!) {
        best[i] = cost;
        cut[i] = j;
        known[i] = isWord;
      }
    }
  }
  const pieces: string[] = [];
  let unknown = false;
  for (let i = s.length; i > 0; i = cut[i]!) {
    pieces.unshift(s.slice(cut[i]!, i));
    if (!known[i]) unknown = true;
  }
  return unknown ? s : pieces.join(' ');
}
