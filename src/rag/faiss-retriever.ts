/**
 * Retrieval over the FAISS index built by `npm run embeddings:build`.
 *
 * Loaded once at start-up. A query is scoped to the example category the
 * navigator's action names, searched in a small per-category index; when the
 * category has fewer than k examples, the whole corpus is searched instead.
 * Positions map to examples through the metadata's id list, so the mapping
 * survives any reordering of the corpus file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Exchange, RetrievalConfig } from '../config/schemas.js';
import type { Logger } from '../util/logger.js';
import type { Embedder } from './embedder.js';
import { FaissIndex } from './faiss-index.js';
import { INDEX_FILES, IndexMetadataSchema, corpusChecksum, sha256, vectorsFromFile, type IndexMetadata } from './index-files.js';
import type { RetrievalQuery, RetrievedExample, Retriever } from './retriever.js';

/** The index cannot be used with the configured embedder (or is missing or damaged). */
export class IndexMismatchError extends Error {
  readonly code = 'INDEX_MISMATCH';
  constructor(message: string) {
    super(message);
    this.name = 'IndexMismatchError';
  }
}

/** The exact command that rebuilds the index for a provider. */
export function rebuildCommand(provider: string): string {
  return provider === 'local' ? 'npm run embeddings:build' : `npm run embeddings:build -- --provider ${provider}`;
}

interface Scope {
  index: FaissIndex;
  /** Scope position -> example. */
  examples: Exchange[];
}

export class FaissRetriever implements Retriever {
  readonly name: string;

  private constructor(
    private readonly embedder: Embedder,
    private readonly global: Scope,
    private readonly byCategory: Map<string, Scope>,
    private readonly minSimilarity: number,
    factory: string,
  ) {
    this.name = `faiss (${factory}, ${global.examples.length} examples, ${embedder.provider} embedder ${embedder.model}/${embedder.dimension})`;
  }

  /** Loads index, vectors and metadata; throws IndexMismatchError with the rebuild command when they do not fit. */
  static load(opts: { dataDir: string; exchanges: readonly Exchange[]; embedder: Embedder; retrieval: RetrievalConfig; logger: Logger }): FaissRetriever {
    const { dataDir, exchanges, embedder, retrieval, logger } = opts;
    const command = rebuildCommand(embedder.provider);
    const paths = Object.fromEntries(Object.entries(INDEX_FILES).map(([k, p]) => [k, join(dataDir, p)])) as Record<keyof typeof INDEX_FILES, string>;
    for (const p of Object.values(paths)) {
      if (!existsSync(p)) throw new IndexMismatchError(`The retrieval index is missing (${p}). Build it with: ${command}`);
    }
    let meta: IndexMetadata;
    try {
      meta = IndexMetadataSchema.parse(JSON.parse(readFileSync(paths.metadata, 'utf8')));
    } catch (err) {
      throw new IndexMismatchError(`The index metadata ${paths.metadata} is unreadable (${(err as Error).message.split('\n')[0]}). Rebuild with: ${command}`);
    }
    const want = { provider: embedder.provider, model: embedder.model, dimension: embedder.dimension };
    const got = meta.embedder;
    if (got.provider !== want.provider || got.model !== want.model || got.dimension !== want.dimension) {
      throw new IndexMismatchError(
        `The retrieval index was built with the ${got.provider} embedder (${got.model}, ${got.dimension} dimensions) ` +
          `but ${want.provider} (${want.model}, ${want.dimension} dimensions) is configured. Rebuild it with: ${command}`,
      );
    }
    const indexBuffer = readFileSync(paths.index);
    if (sha256(indexBuffer) !== meta.index.sha256) {
      throw new IndexMismatchError(`${paths.index} does not match its metadata (an interrupted or partial copy?). Rebuild with: ${command}`);
    }
    if (meta.corpus.sha256 !== corpusChecksum(exchanges)) {
      logger.warn({ built: meta.built_at }, `the example corpus changed since the index was built; run \`${command}\` to include the changes`);
    }

    const byId = new Map(exchanges.map((e) => [e.id, e]));
    let vectors: Float32Array[];
    try {
      vectors = vectorsFromFile(paths.vectors, meta.embedder.dimension, meta.ids.length);
    } catch (err) {
      throw new IndexMismatchError(`${(err as Error).message}. Rebuild with: ${command}`);
    }
    const examples = meta.ids.map((id) => byId.get(id));
    const missing = examples.filter((e) => !e).length;
    if (missing > 0) logger.warn({ missing }, 'examples in the index are no longer in the corpus; they are left out of results');

    const global: Scope = { index: FaissIndex.fromBuffer(indexBuffer, meta.index.factory, retrieval.index.params), examples: examples as Exchange[] };
    const groups = new Map<string, { vectors: Float32Array[]; examples: Exchange[] }>();
    examples.forEach((e, i) => {
      if (!e) return;
      const g = groups.get(e.category) ?? { vectors: [], examples: [] };
      g.vectors.push(vectors[i]!);
      g.examples.push(e);
      groups.set(e.category, g);
    });
    const byCategory = new Map<string, Scope>();
    for (const [category, g] of groups) {
      // Categories are small: exact search is both faster and better than any approximate index.
      const index = FaissIndex.create(meta.embedder.dimension, 'Flat');
      index.add(g.vectors);
      byCategory.set(category, { index, examples: g.examples });
    }
    return new FaissRetriever(embedder, global, byCategory, retrieval.min_similarity, meta.index.factory);
  }

  async retrieve(query: RetrievalQuery): Promise<RetrievedExample[]> {
    const [vector] = await this.embedder.embed([query.text]);
    return this.search(vector!, query.category, query.k);
  }

  /** One embedding, one search per category (an LLM turn shows examples for each of its options). */
  async retrieveEach(text: string, categories: ReadonlyArray<string | undefined>, k: number): Promise<RetrievedExample[][]> {
    const [vector] = await this.embedder.embed([text]);
    return categories.map((category) => this.search(vector!, category, k));
  }

  private search(vector: Float32Array, category: string | undefined, k: number): RetrievedExample[] {
    const scoped = category ? this.byCategory.get(category) : undefined;
    const scope = scoped && scoped.examples.length >= k ? scoped : this.global;
    const out: RetrievedExample[] = [];
    for (const hit of scope.index.search(vector, k)) {
      const exchange = scope.examples[hit.position];
      if (exchange && hit.score >= this.minSimilarity) out.push({ exchange, score: hit.score });
    }
    return out;
  }
}
