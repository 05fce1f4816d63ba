/**
 * The responder interface: turns the navigator's decision into the words the
 * person reads. The offline responder (config lines) is the default; an LLM
 * responder plugs in behind the same interface.
 */
import type { Classification } from '../classifier/classifier.js';
import type { RetrievedExample } from '../rag/retriever.js';
import type { HistoryEntry } from '../session/store.js';

export interface ResponderInput {
  sessionId: string;
  /** What the reply must do (from the navigator). */
  action: string;
  substate: string;
  /** Slot values known so far. */
  slots: Record<string, string>;
  examples: RetrievedExample[];
  /** The previous reply line, so it is not repeated. */
  lastLine: string | undefined;
  /** Turn number in the session (seeds variation). */
  turn: number;
  text: string;
  classification: Classification;
  history: readonly HistoryEntry[];
}

export interface ResponderOutput {
  text: string;
  /** Which responder produced the text (e.g. "offline", "llm"). */
  source: string;
}

export interface Responder {
  readonly name: string;
  /** History entries the responder wants to see; 0 (the default) spares the store a read. */
  readonly historyWindow?: number;
  /** Whether retrieved examples would be used for this action; absent means always (retrieval is skipped when false). */
  usesExamples?(action: string): boolean;
  respond(input: ResponderInput): Promise<ResponderOutput>;
}
