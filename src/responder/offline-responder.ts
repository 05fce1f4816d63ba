/**
 * The offline responder: the config's fallback line for the action, with its
 * slots filled from what the person said. Variation is seeded by session and
 * turn, so a session's replies are reproducible, and no line of the session's
 * last few comes back while the action has another. A line is only used when
 * every slot it quotes is a clean phrase. For the actions the config lists, a
 * close retrieved example may be used as the line instead. A person who asked for short
 * replies gets the action's short lines (`short_actions`) where the config has them.
 */
import type { ResponsesConfig } from '../config/schemas.js';
import type { Responder, ResponderInput, ResponderOutput } from './responder.js';
import { BUILT_IN_SLOTS, fillSlots, slotNames } from '../text/template.js';
import { isCleanSlot } from '../classifier/slots.js';
import { linePrint } from '../engine/recent-lines.js';

/** A slot a line may quote: a clean phrase the person said, or one the engine built (the summary). */
const usable = (name: string, value: string | undefined): boolean => (BUILT_IN_SLOTS.includes(name) ? Boolean(value) : isCleanSlot(value));

export class OfflineResponder implements Responder {
  readonly name = 'offline (config lines + retrieved examples)';
  /** Each line's slots, by action: its lines first, then its short lines. */
  private readonly needs = new Map<string, string[][]>();
  private readonly exampleActions: Set<string>;

  constructor(private readonly config: ResponsesConfig) {
    for (const [action, lines] of Object.entries(config.actions)) this.needs.set(action, [...lines, ...(config.short_actions[action] ?? [])].map(slotNames));
    this.exampleActions = new Set(config.offline.use_examples_for);
  }

  /** True when a line of `action` (a short one included) quotes `{slot}` (the engine builds the summary only for those). */
  quotes(action: string, slot: string): boolean {
    return this.needs.get(action)?.some((names) => names.includes(slot)) ?? false;
  }

  usesExamples(action: string): boolean {
    return this.exampleActions.has(action);
  }

  async respond(input: ResponderInput): Promise<ResponderOutput> {
    return { text: this.line(input), source: 'offline' };
  }

  /**
   * Synchronous core, also used for fixed prompts (e.g. after the safety state is released).
   * Short replies asked for: the action's short lines while one fits and is fresh, else its
   * usual lines (the no-repeat rule outranks the length).
   */
  line(input: Pick<ResponderInput, 'action' | 'slots' | 'recentLines' | 'sessionId' | 'turn' | 'examples' | 'replyLength'>): string {
    const lines = this.config.actions[input.action];
    if (!lines) throw new Error(`no fallback lines for action "${input.action}"`);
    const needs = this.needs.get(input.action)!;
    const short = input.replyLength === 'short' ? this.config.short_actions[input.action] : undefined;
    const normal = this.candidates(lines, needs, input, true);
    const pools = short ? [...this.candidates(short, needs.slice(lines.length), input, false), ...normal] : normal;
    const recent = input.recentLines;
    const fresh = (list: string[]) => list.filter((c) => !recent.includes(linePrint(c)));
    const pool = pools.map(fresh).find((list) => list.length > 0);
    if (pool) return pool[seededIndex(`${input.sessionId}#${input.turn}`, pool.length)]!;
    // Every line was said lately: the one said longest ago (of the short ones when there are).
    const all = pools.slice(0, 2).flat().length > 0 ? pools.slice(0, 2).flat() : pools.flat();
    const age = (c: string) => recent.lastIndexOf(linePrint(c));
    return all.reduce((best, c) => (age(c) < age(best) ? c : best), all[0]!);
  }

  /**
   * The lines that can be said, as [personal, generic]: lines that quote what the person said
   * come first; generic lines stand in when none fits (with a close retrieved example, where allowed).
   */
  private candidates(lines: readonly string[], needs: readonly string[][], input: Pick<ResponderInput, 'action' | 'slots' | 'examples'>, examples: boolean): [string[], string[]] {
    const personal: string[] = [];
    const generic: string[] = [];
    lines.forEach((line, i) => {
      const slots = needs[i]!;
      if (slots.length === 0) generic.push(line);
      else if (slots.every((s) => usable(s, input.slots[s]))) personal.push(fillSlots(line, input.slots));
    });
    const best = input.examples[0];
    if (examples && this.exampleActions.has(input.action) && best && best.score >= this.config.offline.min_example_similarity) {
      generic.push(best.exchange.therapist_response);
    }
    return [personal, generic];
  }
}

/** FNV-1a hash of the seed, reduced to [0, n). */
export function seededIndex(seed: string, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % n;
}
