/**
 * The grammar's word classes, compiled once: every phrase expanded (alternatives,
 * inflections), normalised exactly as messages are, and put in a token trie; and the
 * token folding that lets a misspelt or stretched word still find its entry.
 */
import { riskTokens } from '../normalize.js';

export interface TrieNode {
  next: Map<string, TrieNode>;
  /** Classes a phrase ending here belongs to. */
  classes: number[];
}

/**
 * Expands `{a|b|}` alternatives (an alternative may hold several words; an empty one drops
 * the group) and `word+` inflections into every surface form.
 */
export function expandPhrase(phrase: string): string[] {
  const units = phrase.trim().match(/\{[^}]*\}|[^\s{]+/g) ?? [];
  let out: string[][] = [[]];
  for (const unit of units) {
    const alts = unit.startsWith('{') ? unit.slice(1, -1).split('|').map((a) => a.trim()) : [unit];
    const forms = alts.flatMap((alt) => (alt === '' ? [[]] : expandWords(alt.split(/\s+/))));
    const next: string[][] = [];
    for (const prefix of out) for (const f of forms) next.push([...prefix, ...f]);
    out = next;
    if (out.length > 20_000) throw new Error(`phrase "${phrase}" expands to more than 20,000 forms`);
  }
  return [...new Set(out.map((p) => p.join(' ')).filter((p) => p.length > 0))];
}

/** Every combination of the words' inflections (`word+`). */
function expandWords(words: string[]): string[][] {
  let out: string[][] = [[]];
  for (const w of words) {
    const forms = w.endsWith('+') ? inflections(w.slice(0, -1)) : [w];
    out = out.flatMap((prefix) => forms.map((f) => [...prefix, f]));
  }
  return out;
}

/** Regular English inflections of a verb or noun (over-generating is harmless: no one types the extra forms). */
export function inflections(w: string): string[] {
  const forms = new Set([w]);
  const last = w.at(-1)!;
  const vowels = 'aeiou';
  if (w.endsWith('ie')) {
    forms.add(`${w}s`).add(`${w}d`).add(`${w.slice(0, -2)}ying`);
  } else if (last === 'e') {
    forms.add(`${w}s`).add(`${w}d`).add(`${w.slice(0, -1)}ing`);
  } else if (last === 'y' && !vowels.includes(w.at(-2) ?? '')) {
    forms.add(`${w.slice(0, -1)}ies`).add(`${w.slice(0, -1)}ied`).add(`${w}ing`);
  } else {
    forms.add(/(s|sh|ch|x|z)$/.test(w) ? `${w}es` : `${w}s`).add(`${w}ed`).add(`${w}ing`);
    // Short consonant-vowel-consonant words double the last letter (cut -> cutting).
    if (w.length <= 4 && /[^aeiou][aeiou][^aeiouwxy]$/.test(w)) forms.add(`${w}${last}ed`).add(`${w}${last}ing`);
  }
  return [...forms];
}

/** Letters with every run of a repeated letter cut to one ("killl", "kil" -> "kil"). */
function skeleton(w: string): string {
  return w.replace(/(.)\1+/g, '$1');
}

const CACHE_LIMIT = 50_000;

/**
 * Maps a message token to the form the lexicon knows: itself, or its skeleton's entry
 * ("diie" -> "die", "kil" -> "kill"), a dropped g ("endin" -> "ending"), one typo away
 * from a word of five letters or more ("suicdie" -> "suicide"), or a `*` standing for a
 * letter ("k*ll"). Results are cached: most tokens repeat from message to message.
 */
export class TokenFolder {
  private readonly skeletons = new Map<string, string>();
  private readonly deletions = new Map<string, string>();
  private readonly byLength = new Map<number, string[]>();
  private readonly cache = new Map<string, string>();

  constructor(private readonly vocab: ReadonlySet<string>) {
    for (const w of vocab) {
      if (!/^[a-z]+$/.test(w)) continue;
      const s = skeleton(w);
      if (!vocab.has(s) && !this.skeletons.has(s)) this.skeletons.set(s, w);
      if (w.length >= 5) for (const d of deletes(w)) if (!this.deletions.has(d)) this.deletions.set(d, w);
      this.cache.set(w, w);
      const list = this.byLength.get(w.length) ?? [];
      list.push(w);
      this.byLength.set(w.length, list);
    }
  }

  fold(token: string): string {
    // One lookup for most tokens: the cache holds the vocabulary too (see the constructor).
    const hit = this.cache.get(token);
    if (hit !== undefined) return hit;
    const folded = this.compute(token);
    if (this.cache.size >= CACHE_LIMIT) {
      this.cache.clear();
      for (const w of this.vocab) this.cache.set(w, w);
    }
    this.cache.set(token, folded);
    return folded;
  }

  private compute(t: string): string {
    if (t.includes('*')) return this.wildcard(t) ?? t;
    const s = skeleton(t);
    if (this.vocab.has(s)) return s;
    const sk = this.skeletons.get(s);
    if (sk) return sk;
    if (t.endsWith('in') && this.vocab.has(`${t}g`)) return `${t}g`;
    if (t.length >= 5) {
      // One typo: the token itself is a deletion of a word (a letter dropped), or they share one
      // (a letter wrong or swapped). Typos seldom hit the first letter; requiring it keeps
      // "fridge" from becoming "bridge".
      const same = (w: string | undefined) => (w !== undefined && w[0] === t[0] ? w : undefined);
      const direct = same(this.deletions.get(t));
      if (direct) return direct;
      for (const d of deletes(t)) {
        if (d.length >= 4 && this.vocab.has(d) && d[0] === t[0]) return d; // a letter added
        const w = same(this.deletions.get(d));
        if (w && w.length === t.length && oneSubstitutionOrSwap(w, t)) return w;
      }
    }
    return t;
  }

  private wildcard(t: string): string | undefined {
    const letters = t.replace(/\*/g, '');
    if (letters.length < 2) return undefined;
    const re = new RegExp(`^${t.replace(/\*/g, '[a-z]')}$`);
    return this.byLength.get(t.length)?.find((w) => re.test(w));
  }
}

/** Same-length words one letter apart, or two neighbouring letters swapped (a shared deletion allows more). */
function oneSubstitutionOrSwap(a: string, b: string): boolean {
  const diff: number[] = [];
  for (let i = 0; i < a.length && diff.length <= 2; i++) if (a[i] !== b[i]) diff.push(i);
  if (diff.length === 1) return true;
  return diff.length === 2 && diff[1] === diff[0]! + 1 && a[diff[0]!] === b[diff[1]!] && a[diff[1]!] === b[diff[0]!];
}

function deletes(w: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < w.length; i++) out.push(w.slice(0, i) + w.slice(i + 1));
  return out;
}

/** Compiles class phrases into a token trie; returns the trie and every token the phrases use. */
export function buildTrie(classes: ReadonlyArray<{ id: number; phrases: readonly string[] }>): { root: TrieNode; vocab: Set<string> } {
  const root: TrieNode = { next: new Map(), classes: [] };
  const vocab = new Set<string>();
  for (const { id, phrases } of classes) {
    for (const p of phrases) {
      for (const form of expandPhrase(p)) {
        const tokens = riskTokens(form).filter((t) => t !== '.' && t !== ',');
        if (tokens.length === 0) continue;
        let node = root;
        for (const t of tokens) {
          vocab.add(t);
          let child = node.next.get(t);
          if (!child) node.next.set(t, (child = { next: new Map(), classes: [] }));
          node = child;
        }
        if (!node.classes.includes(id)) node.classes.push(id);
      }
    }
  }
  return { root, vocab };
}
