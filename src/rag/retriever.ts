/**
 * The retriever interface: example exchanges relevant to this turn, scoped to
 * the example category the navigator's action names.
 */
import type { Exchange } from '../config/schemas.js';

export interface RetrievedExample {
  exchange: Exchange;
  /** Cosine similarity in [0, 1]. */
  score: number;
}

export interface RetrievalQuery {
  text: string;
  /** Example category; when it has fewer than k examples, the whole corpus is searched. */
  category?: string | undefined;
  k: number;
}

export interface Retriever {
  /** Backend name, printed at start-up. */
  readonly name: string;
  retrieve(query: RetrievalQuery): Promise<RetrievedExample[]>;
  /** Examples for several categories with one embedding of `text` (optional; else one retrieve each). */
  retrieveEach?(text: string, categories: ReadonlyArray<string | undefined>, k: number): Promise<RetrievedExample[][]>;
}
