/**
 * The `openai` embedder: the embeddings API of OpenAI or any compatible
 * server (base URL configurable). Inputs are split into requests within the
 * API's limits (at most 2,048 inputs, and a token budget per request), sent
 * with a concurrency limit. Retries on 408/409/429/5xx with exponential
 * backoff honouring Retry-After are the `openai` client's own (maxRetries);
 * the timeout is set in seconds here rather than the client's 10-minute default.
 */
import OpenAI from 'openai';
import pLimit from 'p-limit';
import type { RetrievalConfig } from '../config/schemas.js';
import { l2normalize, type Embedder } from './embedder.js';

/** Native output sizes of known models, used when config gives no `dimensions`. */
const NATIVE_DIMENSIONS: Record<string, number> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

/** Conservative token estimate: English runs ~4 characters a token; count 3 so a request never exceeds the budget. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 3) + 1;
}

/** Splits texts into consecutive batches within both limits; a single over-budget text gets a batch of its own. */
export function batchTexts(texts: readonly string[], maxInputs: number, maxTokens: number): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let tokens = 0;
  for (const t of texts) {
    const cost = estimateTokens(t);
    if (current.length > 0 && (current.length >= maxInputs || tokens + cost > maxTokens)) {
      batches.push(current);
      current = [];
      tokens = 0;
    }
    current.push(t);
    tokens += cost;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export interface OpenAiEmbedderOptions {
  config: RetrievalConfig['openai'];
  apiKey: string | undefined;
  baseURL: string | undefined;
}

export class OpenAiEmbedder implements Embedder {
  readonly provider = 'openai';
  readonly model: string;
  readonly dimension: number;
  private readonly client: OpenAI;
  private readonly limit: ReturnType<typeof pLimit>;

  constructor(private readonly opts: OpenAiEmbedderOptions) {
    const { config } = opts;
    this.model = config.model;
    const dimension = config.dimensions ?? NATIVE_DIMENSIONS[config.model];
    if (!dimension) throw new Error(`retrieval.json: openai.dimensions is required for the model "${config.model}" (its output size is not known)`);
    this.dimension = dimension;
    this.client = new OpenAI({
      // Compatible servers (Ollama, vLLM, LocalAI) often need no key; the client insists on one.
      apiKey: opts.apiKey || 'not-needed',
      ...(opts.baseURL ? { baseURL: opts.baseURL } : {}),
      timeout: config.timeout_seconds * 1000,
      maxRetries: config.max_retries,
    });
    this.limit = pLimit(config.concurrency);
  }

  /** The API's base URL as the client resolved it (option, else OPENAI_BASE_URL, else OpenAI's), for error messages. */
  get baseURL(): string {
    return this.client.baseURL;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const { max_inputs_per_request, max_tokens_per_request, dimensions } = this.opts.config;
    const batches = batchTexts(texts, max_inputs_per_request, max_tokens_per_request);
    const results = await Promise.all(
      batches.map((input) =>
        this.limit(async () => {
          const res = await this.client.embeddings.create({ model: this.model, input, ...(dimensions ? { dimensions } : {}) });
          const data = [...res.data].sort((a, b) => a.index - b.index);
          if (data.length !== input.length) throw new Error(`embeddings API returned ${data.length} vectors for ${input.length} inputs`);
          return data.map((d) => {
            if (d.embedding.length !== this.dimension) {
              throw new Error(`embeddings API returned ${d.embedding.length} dimensions; ${this.dimension} configured (retrieval.json openai.dimensions)`);
            }
            return l2normalize(Float32Array.from(d.embedding));
          });
        }),
      ),
    );
    return results.flat();
  }
}
