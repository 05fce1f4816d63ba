/**
 * Streaming: turns the growing JSON answer into growing reply text a person may
 * see. Nothing is shown until the criteria and the action are complete and
 * valid (they come first), and text is released a sentence at a time, only
 * while everything released so far passes the reply guards: a banned phrase is
 * caught before its sentence is shown. The final answer is still checked whole.
 */
import { Allow, parse } from 'partial-json';
import type { Judged, StepPlan } from '../responder.js';
import type { ReplyGuards } from './guards.js';
import { checkHead } from './reply-format.js';

/** The end of the last complete sentence in `text` (0 when none). */
export function lastSentenceEnd(text: string): number {
  let end = 0;
  // A closing quote or bracket belongs to the sentence it ends.
  for (const m of text.matchAll(/[.!?…:]["'”’)]*(?=\s)|\n/g)) end = m.index + m[0].length;
  return end;
}

export class ReplyStream {
  private head: Judged | undefined;
  private stopped = false;
  private shownUpTo = 0;

  constructor(
    private readonly plan: StepPlan,
    /** The person's message (slot quotes must come from it). */
    private readonly message: string,
    private readonly guards: ReplyGuards,
    private readonly emit: (text: string, judged: Judged) => void,
  ) {}

  /** Called with the whole answer so far after each chunk. */
  push(snapshot: string): void {
    if (this.stopped) return;
    let partial: unknown;
    try {
      partial = parse(snapshot, Allow.ALL);
    } catch {
      return; // not JSON yet (or never): the final check decides
    }
    if (!partial || typeof partial !== 'object') return;
    const answer = partial as Record<string, unknown>;
    if (typeof answer.reply !== 'string') return;
    if (!this.head) {
      const keys = Object.keys(answer);
      const replyAt = keys.indexOf('reply');
      const before = (key: string) => keys.indexOf(key) >= 0 && keys.indexOf(key) < replyAt;
      // The risk flag, criteria and action must come before the reply, or they may still be
      // incomplete; a flagged answer shows nothing (the fixed crisis response follows).
      // `slots` may be left out when empty; a late one only makes the final check stricter.
      if (!(before('risk') && before('criteria_met') && before('action') && answer.risk === false)) {
        this.stopped = true;
        return;
      }
      const head = checkHead(answer, this.plan, this.message);
      if (!head.ok) {
        this.stopped = true;
        return;
      }
      this.head = head.value;
    }
    const end = lastSentenceEnd(answer.reply);
    if (end <= this.shownUpTo) return;
    const text = answer.reply.slice(0, end).trim();
    if (!this.guards.check(text).ok || this.guards.escalates(text)) {
      this.stopped = true; // the final check replaces the whole reply
      return;
    }
    this.shownUpTo = end;
    if (text) this.emit(text, this.head);
  }
}
