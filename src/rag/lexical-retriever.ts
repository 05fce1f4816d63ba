/**
 * An in-memory lexical retriever: TF-IDF weighted word vectors of each
 * example's client input, cosine similarity, scoped by category. Needs no
 * build step and no native code; the FAISS-backed retriever replaces it.
 */
import type { Exchange } from '../config/schemas.js';
import { normalize } from '../classifier/normalize.js';
import type { RetrievalQuery, RetrievedExample, Retriever } from './retriever.js';

interface Doc {
  exchange: Exchange;
  weights: Map<string, number>;
}

function terms(text: string): string[] {
  return normalize(text).split(' ').filter((w) => w.length > 0);
}

export class LexicalRetriever implements Retriever {
  readonly name = 'lexical (in-memory TF-IDF)';
  private readonly docs: Doc[];
  private readonly byCategory = new Map<string, Doc[]>();
  private readonly idf = new Map<string, number>();

  constructor(exchanges: readonly Exchange[]) {
    const df = new Map<string, number>();
    const tokenised = exchanges.map((e) => terms(e.client_input));
    for (const ts of tokenised) for (const t of new Set(ts)) df.set(t, (df.get(t) ?? 0) + 1);
    const n = exchanges.length;
    for (const [t, d] of df) this.idf.set(t, Math.log(1 + n / d));
    this.docs = exchanges.map((exchange, i) => ({ exchange, weights: this.vector(tokenised[i]!) }));
    for (const doc of this.docs) {
      const list = this.byCategory.get(doc.exchange.category) ?? [];
      list.push(doc);
      this.byCategory.set(doc.exchange.category, list);
    }
  }

  async retrieve(query: RetrievalQuery): Promise<RetrievedExample[]> {
    const q = this.vector(terms(query.text));
    const scoped = query.category ? this.byCategory.get(query.category) : undefined;
    const pool = scoped && scoped.length >= query.k ? scoped : this.docs;
    const scored: RetrievedExample[] = [];
    for (const doc of pool) {
      let dot = 0;
      for (const [t, w] of q) dot += w * (doc.weights.get(t) ?? 0);
      scored.push({ exchange: doc.exchange, score: dot });
    }
    scored.sort((a, b) => b.score - a.score);
    return scored.slice(0, query.k);
  }

  /** Sublinear TF x IDF, L2-normalised. */
  private vector(ts: string[]): Map<string, number> {
    const tf = new Map<string, number>();
    for (const t of ts) tf.set(t, (tf.get(t) ?? 0) + 1);
    const v = new Map<string, number>();
    let norm = 0;
    for (const [t, c] of tf) {
      const w = (1 + Math.log(c)) * (this.idf.get(t) ?? Math.log(1 + this.docs?.length || 1));
      v.set(t, w);
      norm += w * w;
    }
    norm = Math.sqrt(norm) || 1;
    for (const [t, w] of v) v.set(t, w / norm);
    return v;
  }
}
