/**
 * The frame pattern language of risk_grammar.json, parsed once at start-up.
 *
 *   INTENT ~3 DEATH        a phrase of INTENT, up to 3 other tokens, a phrase of DEATH
 *   NEG_DESIRE LIFE|EXIST  either class
 *   cut $                  the token "cut", then a clause break or the end of the message
 *   SELF? BURDEN           an optional element
 *   HOPELESS ~~8 EXIT      a gap that may cross sentence breaks
 */

export type PatternElement =
  | { type: 'class'; classes: string[]; words: string[]; optional: boolean }
  | { type: 'gap'; max: number; crossSentence: boolean }
  | { type: 'end' };

export class PatternError extends Error {}

export function parsePattern(pattern: string): PatternElement[] {
  const parts = pattern.trim().split(/\s+/);
  const out: PatternElement[] = [];
  for (const part of parts) {
    const gap = /^(~~?)(\d+)$/.exec(part);
    if (gap) {
      if (out.length === 0 || out[out.length - 1]!.type === 'gap') throw new PatternError(`"${part}": a gap must follow an element`);
      out.push({ type: 'gap', max: Number(gap[2]), crossSentence: gap[1] === '~~' });
      continue;
    }
    if (part === '$') {
      out.push({ type: 'end' });
      continue;
    }
    const optional = part.endsWith('?');
    const body = optional ? part.slice(0, -1) : part;
    const alts = body.split('|');
    const classes: string[] = [];
    const words: string[] = [];
    for (const alt of alts) {
      if (/^[A-Z][A-Z0-9_]*$/.test(alt)) classes.push(alt);
      else if (/^[a-z0-9]+$/.test(alt)) words.push(alt);
      else throw new PatternError(`"${part}": an element is an UPPER_CASE class or a lower-case word, alternatives apart by "|"`);
    }
    out.push({ type: 'class', classes, words, optional });
  }
  const first = out[0];
  const last = out[out.length - 1];
  if (!first || first.type !== 'class' || first.optional) throw new PatternError('a pattern starts with a required class or word');
  if (!last || last.type === 'gap' || (last.type === 'class' && last.optional)) throw new PatternError('a pattern ends with a required element');
  return out;
}
