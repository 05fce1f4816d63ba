/**
 * Messages from the durable queue answered in one turn (a burst): which of them
 * this turn still has to answer, and their crisis assessment.
 */
import type { CrisisCheck, SafetyAssessment } from '../safety/crisis-check.js';
import type { TurnInput } from './types.js';

export interface TurnTexts {
  /** The messages joined, for classification and the responder. */
  text: string;
  /** Each message, for history. */
  texts: string[];
  assessment: SafetyAssessment;
  /** Highest queue sequence number answered (undefined outside the queue). */
  seq: number | undefined;
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
 * What a turn answers: everything, or for queued parts only those above the session's
 * recorded sequence `queueSeq` (null when all were answered already: an instance died
 * after recording its turn, and the queue delivered the messages again).
 */
export function unanswered(crisis: CrisisCheck, parts: TurnInput['parts'], queueSeq: number | undefined, text: string, assessment: SafetyAssessment): TurnTexts | null {
  if (!parts) return { text, texts: [text], assessment, seq: undefined };
  const fresh = queueSeq === undefined ? parts : parts.filter((p) => p.seq > queueSeq);
  if (fresh.length === 0) return null;
  const seq = Math.max(...fresh.map((p) => p.seq));
  if (fresh.length === parts.length) return { text, texts: parts.map((p) => p.text), assessment, seq };
  const texts = fresh.map((p) => p.text);
  return { text: texts.join('\n'), texts, assessment: assessBurst(crisis, texts), seq };
}
