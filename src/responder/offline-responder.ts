/**
 * The offline responder: the config's fallback line for the action, with its
 * slots filled from what the person said. Variation is seeded by session and
 * turn, so a session's replies are reproducible, and no line of the session's
 * last few comes back while the action has another. A line is only used when
 * every slot it quotes is a clean phrase. For the actions the config lists, a
 * close retrieved example may be used as the line instead.
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
  private readonly needs = new Map<string, string[][]>();
  private readonly exampleActions: Set<string>;

  constructor(private readonly config: ResponsesConfig) {
    for (const [action, lines] of Object.entries(config.actions)) this.needs.set(action, lines.map(slotNames));
    this.exampleActions = new Set(config.offline.use_examples_for);
  }

  /** True when a line of `action` quotes `{slot}` (the engine builds the summary only for those). */
  quotes(action: string, slot: string): boolean {
    return this.needs.get(action)?.some((names) => names.includes(slot)) ?? false;
  }

  usesExamples(action: string): boolean {
    return this.exampleActions.has(action);
  }

  async respond(input: ResponderInput): Promise<ResponderOutput> {
    return { text: this.line(input), source: 'offline' };
  }

  /** Synchronous core, also used for fixed prompts (e.g. after the safety state is released). */
  line(input: Pick<ResponderInput, 'action' | 'slots' | 'recentLines' | 'sessionId' | 'turn' | 'examples'>): string {
    const lines = this.config.actions[input.action];
    if (!lines) throw new Error(`no fallback lines for action "${input.action}"`);
    const needs = this.needs.get(input.action)!;
    // Lines that quote what the person said come first; generic lines stand in when none fits.
    const personal: string[] = [];
    const generic: string[] = [];
    lines.forEach((line, i) => {
      const slots = needs[i]!;
      if (slots.length === 0) generic.push(line);
      else if (slots.every((s) => usable(s, input.slots[s]))) personal.push(fillSlots(line, input.slots));
    });
    const best = input.examples[0];
    if (this.exampleActions.has(input.action) && best && best.score >= this.config.offline.min_example_similarity) {
      generic.push(best.exchange.therapist_response);
    }
    const recent = input.recentLines;
    const fresh = (list: string[]) => list.filter((c) => !recent.includes(linePrint(c)));
    const pool = [fresh(personal), fresh(generic)].find((list) => list.length > 0);
    if (pool) return pool[seededIndex(`${input.sessionId}#${input.turn}`, pool.length)]!;
    // Every line was said lately: the one said longest ago.
    const all = [...personal, ...generic];
    const age = (c: string) => recent.lastIndexOf(linePrint(c));
    return all.reduce((best, c) => (age(c) < age(best) ? c : best), all[0]!);
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
