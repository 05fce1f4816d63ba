/**
 * A multi-pattern phrase matcher: every pattern is compiled once into a single
 * Aho-Corasick automaton (a full DFA over the normalised alphabet), and a
 * message is scanned once, character by character, whatever the number of
 * patterns. Normalisation happens inside the same loop, and every match is
 * reported with its span in the original, un-normalised text.
 */
import { ALPHABET_SIZE, OTHER, SEP, SKIP, SYMBOL, phraseSymbols } from '../text/normalize.js';

/** A phrase to compile, tagged with what it means. */
export interface PatternSpec {
  phrase: string;
  /** Label (or slot cue, or safety category) the phrase stands for. */
  tag: string;
  /** Matches only suppress matches of the same group (see `Match.dropped`). */
  group: number;
}

/** One phrase found in a message. */
export interface Match {
  tag: string;
  group: number;
  phrase: string;
  /** Start offset in the original text (UTF-16 code units). */
  start: number;
  /** End offset (exclusive) in the original text. */
  end: number;
}

export interface ScanResult {
  /** Matches left after leftmost-longest filtering, in order of start. */
  matches: Match[];
  /** Number of words in the message after normalisation. */
  wordCount: number;
}

interface Compiled {
  spec: PatternSpec;
  /** Length in symbols, including the padding separators. */
  length: number;
  stem: boolean;
}

// Scan buffers are reused: scanning is synchronous, so no two scans overlap.
let origIndex = new Int32Array(1024);
let symbols = new Uint8Array(1024);
// The text's UTF-16 code units, copied natively. Reading them with charCodeAt in a loop is
// 7x slower once any library subclasses String (ioredis does), so the hot loop avoids it.
let unitBytes = Buffer.alloc(2048);
let units = new Uint16Array(unitBytes.buffer, unitBytes.byteOffset, 1024);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Copies `text` into the shared code-unit buffer (little-endian hosts) and returns it. */
function codeUnits(text: string): Uint16Array | undefined {
  if (!LITTLE_ENDIAN) return undefined;
  if (units.length < text.length) {
    unitBytes = Buffer.alloc(text.length * 4);
    units = new Uint16Array(unitBytes.buffer, unitBytes.byteOffset, text.length * 2);
  }
  unitBytes.write(text, 0, 'utf16le');
  return units;
}

export class PhraseMatcher {
  private readonly delta: Int32Array;
  private readonly outStart: Int32Array;
  private readonly outList: Int32Array;
  /** 1 where a state reports matches: one byte read per character on the hot path. */
  private readonly hasOut: Uint8Array;
  private readonly patterns: Compiled[];
  readonly stateCount: number;

  constructor(specs: readonly PatternSpec[]) {
    this.patterns = [];
    // goto trie
    const children: Array<Map<number, number>> = [new Map()];
    const own: number[][] = [[]];
    specs.forEach((spec) => {
      const { symbols: syms, stem } = phraseSymbols(spec.phrase);
      if (syms.length <= 1 || (syms.length === 2 && !stem)) return; // phrase normalised to nothing
      let node = 0;
      for (const s of syms) {
        let next = children[node]!.get(s);
        if (next === undefined) {
          next = children.length;
          children.push(new Map());
          own.push([]);
          children[node]!.set(s, next);
        }
        node = next;
      }
      own[node]!.push(this.patterns.length);
      this.patterns.push({ spec, length: syms.length, stem });
    });

    // BFS for failure links, filling the full transition table as we go.
    const n = children.length;
    this.stateCount = n;
    const delta = new Int32Array(n * ALPHABET_SIZE);
    const fail = new Int32Array(n);
    const outputs: number[][] = own.map((o) => o.slice());
    const queue: number[] = [];
    for (let s = 0; s < ALPHABET_SIZE; s++) {
      const child = children[0]!.get(s);
      if (child !== undefined) {
        delta[s] = child;
        fail[child] = 0;
        queue.push(child);
      } else {
        delta[s] = 0;
      }
    }
    for (let qi = 0; qi < queue.length; qi++) {
      const node = queue[qi]!;
      outputs[node]!.push(...outputs[fail[node]!]!);
      for (let s = 0; s < ALPHABET_SIZE; s++) {
        const child = children[node]!.get(s);
        if (child !== undefined) {
          fail[child] = delta[fail[node]! * ALPHABET_SIZE + s]!;
          delta[node * ALPHABET_SIZE + s] = child;
          queue.push(child);
        } else {
          delta[node * ALPHABET_SIZE + s] = delta[fail[node]! * ALPHABET_SIZE + s]!;
        }
      }
    }
    this.delta = delta;
    this.outStart = new Int32Array(n + 1);
    const flat: number[] = [];
    for (let i = 0; i < n; i++) {
      this.outStart[i] = flat.length;
      flat.push(...new Set(outputs[i]));
    }
    this.outStart[n] = flat.length;
    this.outList = Int32Array.from(flat);
    this.hasOut = new Uint8Array(n);
    for (let i = 0; i < n; i++) this.hasOut[i] = this.outStart[i + 1]! > this.outStart[i]! ? 1 : 0;
  }

  /** Number of patterns compiled. */
  get size(): number {
    return this.patterns.length;
  }

  /** Scans `text` once and returns every match (after leftmost-longest filtering). */
  scan(text: string): ScanResult {
    const len = text.length;
    if (origIndex.length < len + 2) {
      origIndex = new Int32Array(len * 2 + 2);
      symbols = new Uint8Array(len * 2 + 2);
    }
    const { delta, outStart, outList, patterns, hasOut } = this;
    // Locals, not the module bindings: the loop below reads them for every character.
    const syms = symbols;
    const orig = origIndex;
    const table = SYMBOL;
    const cu = codeUnits(text);
    const hits: Array<[number, number]> = []; // [pattern, end symbol index]
    let state = delta[SEP]!; // virtual leading separator
    syms[0] = SEP;
    orig[0] = 0;
    let k = 1;
    let lastSep = true;
    let words = 0;
    for (let i = 0; i <= len; i++) {
      // i === len feeds the virtual trailing separator
      let s = i < len ? table[cu ? cu[i]! : text.charCodeAt(i)]! : SEP;
      if (s === SKIP) continue;
      if (s === SEP) {
        if (lastSep) continue;
        lastSep = true;
      } else {
        if (lastSep) words++;
        lastSep = false;
        if (s > OTHER) s = OTHER;
      }
      syms[k] = s;
      orig[k] = i;
      state = delta[state * ALPHABET_SIZE + s]!;
      if (hasOut[state] === 1) for (let o = outStart[state]!, e = outStart[state + 1]!; o < e; o++) hits.push([outList[o]!, k]);
      k++;
    }
    if (hits.length === 0) return { matches: [], wordCount: words };

    const matches: Match[] = [];
    for (const [p, endK] of hits) {
      const pat = patterns[p]!;
      const firstK = endK - pat.length + 2; // skip the leading separator
      let lastK = pat.stem ? endK : endK - 1;
      if (pat.stem) while (lastK + 1 < k && syms[lastK + 1] !== SEP) lastK++; // extend to the word's end
      matches.push({
        tag: pat.spec.tag,
        group: pat.spec.group,
        phrase: pat.spec.phrase,
        start: orig[firstK]!,
        end: orig[lastK]! + 1,
      });
    }
    return { matches: leftmostLongest(matches), wordCount: words };
  }
}

/**
 * Drops a match whose span lies inside a longer match of the same group, so
 * "not sure" does not also count as "sure", and "when I was a kid" is about the
 * past, not a pattern's trigger. Matches with identical spans all stay.
 */
function leftmostLongest(matches: Match[]): Match[] {
  matches.sort((a, b) => a.start - b.start || b.end - a.end);
  if (matches.length < 2) return matches;
  return matches.filter(
    (m) =>
      !matches.some(
        (o) => o !== m && o.group === m.group && o.start <= m.start && o.end >= m.end && o.end - o.start > m.end - m.start,
      ),
  );
}
