/**
 * Messages from the durable queue answered in one turn (a burst): which of them
 * this turn still has to answer, and their crisis assessment.
 */
import type { CrisisCheck, SafetyAssessment } from '../safety/crisis-check.js';
import type { SessionState } from './session-state.js';
import type { TurnInput } from './types.js';

export interface TurnTexts {
  /** The messages joined, for classification and the responder. */
  text: string;
  /** Each message, for history. */
  texts: string[];
  /** Per message: it was written before a message the session already answered (it reached us late). */
  late: boolean[];
  assessment: SafetyAssessment;
  /** The queue sequence numbers of every part of the turn, those skipped as answered included (empty outside the queue). */
  seqs: number[];
  /** The latest platform order among the messages answered (undefined without one). */
  order: string | undefined;
}

/**
 * Assesses a burst as one text, a line per message: the crisis check treats a line break as
 * a sentence break (no negation or excusing phrase reaches across it), while a combination
 * spread over two messages still counts.
 */
export function assessBurst(crisis: CrisisCheck, texts: string[]): SafetyAssessment {
  // The release phrases are read later, and only when the session's safety state needs them.
  return crisis.assess(texts.join('\n'), [], { release: false });
}

/**
 * What a turn answers: everything, or for queued parts only those the session's last turn did
 * not record (null when it recorded them all: an instance died after recording its turn, and the
 * queue delivered the messages again). A session recorded before `answeredSeqs` existed falls
 * back to its highest sequence answered.
 */
export function unanswered(crisis: CrisisCheck, parts: TurnInput['parts'], state: Pick<SessionState, 'queueSeq' | 'answeredSeqs' | 'lastOrder'>, text: string, assessment: SafetyAssessment): TurnTexts | null {
  if (!parts) return { text, texts: [text], late: [false], assessment, seqs: [], order: undefined };
  const recorded = state.answeredSeqs ? new Set(state.answeredSeqs) : undefined;
  const answeredAlready = (seq: number) => (recorded ? recorded.has(seq) : state.queueSeq !== undefined && seq <= state.queueSeq);
  const fresh = parts.filter((p) => !answeredAlready(p.seq));
  if (fresh.length === 0) return null;
  const seqs = parts.map((p) => p.seq);
  const late = fresh.map((p) => p.order !== undefined && state.lastOrder !== undefined && p.order < state.lastOrder);
  let order: string | undefined;
  for (const p of fresh) if (p.order !== undefined && (order === undefined || p.order > order)) order = p.order;
  if (fresh.length === parts.length) return { text, texts: parts.map((p) => p.text), late, assessment, seqs, order };
  const texts = fresh.map((p) => p.text);
  return { text: texts.join('\n'), texts, late, assessment: assessBurst(crisis, texts), seqs, order };
}
