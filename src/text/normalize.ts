/**
 * Character normalisation shared by pattern compilation and message scanning.
 *
 * Every UTF-16 code unit maps to one symbol: a lower-case letter or digit, the
 * word separator, or SKIP. Apostrophes are skipped (so "can't", "can’t" and
 * "cant" are the same word); everything that is not a letter or digit separates
 * words; accented Latin letters fold to their base letter. The table is built
 * once, so scanning costs one array read per character.
 */

/** Word separator (also padded around every pattern, which gives word boundaries). */
export const SEP = 0;
/** Characters that vanish (apostrophes). */
export const SKIP = 255;
/** A letter outside a-z that has no ASCII base (e.g. Greek, CJK): part of a word, never matches a pattern letter. */
export const OTHER = 37;
/** Number of symbols the automaton needs a column for. */
export const ALPHABET_SIZE = 38;

const APOSTROPHES = [0x27, 0x2019, 0x2018, 0x02bc, 0x60, 0xb4, 0x2032];

function buildTable(): Uint8Array {
  const table = new Uint8Array(65536).fill(SEP);
  for (let c = 97; c <= 122; c++) table[c] = c - 96; // a-z -> 1..26
  for (let c = 65; c <= 90; c++) table[c] = c - 64; // A-Z -> 1..26
  for (let c = 48; c <= 57; c++) table[c] = 27 + (c - 48); // 0-9 -> 27..36
  const letterOrDigit = /[\p{L}\p{N}]/u;
  for (let c = 128; c < 65536; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue; // surrogate halves (emoji etc.) separate words
    const ch = String.fromCharCode(c);
    if (!letterOrDigit.test(ch)) continue;
    const base = ch.normalize('NFD').charCodeAt(0);
    const lower = base | 0x20;
    table[c] = lower >= 97 && lower <= 122 && base < 128 ? lower - 96 : OTHER;
  }
  for (const c of APOSTROPHES) table[c] = SKIP;
  return table;
}

/** Code unit -> symbol. */
export const SYMBOL: Uint8Array = buildTable();

/** Normalises text to the matcher's canonical form (for building patterns and for tests). */
export function normalize(text: string): string {
  let out = '';
  let lastSep = true;
  for (let i = 0; i < text.length; i++) {
    const s = SYMBOL[text.charCodeAt(i)]!;
    if (s === SKIP) continue;
    if (s === SEP) {
      if (!lastSep) out += ' ';
      lastSep = true;
      continue;
    }
    lastSep = false;
    out += s <= 26 ? String.fromCharCode(96 + s) : s <= 36 ? String.fromCharCode(48 + s - 27) : '\u00b7';
  }
  return out.trimEnd();
}

/** Turns a config phrase into symbols; a trailing `*` means "any word ending". */
export function phraseSymbols(phrase: string): { symbols: number[]; stem: boolean } {
  const stem = phrase.trimEnd().endsWith('*');
  const body = normalize(stem ? phrase.trimEnd().slice(0, -1) : phrase);
  const symbols: number[] = [SEP];
  for (let i = 0; i < body.length; i++) {
    const s = SYMBOL[body.charCodeAt(i)];
    symbols.push(s === undefined || s === SKIP ? OTHER : s);
  }
  if (!stem) symbols.push(SEP);
  return { symbols, stem };
}
