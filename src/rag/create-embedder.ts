/** Chooses the embedder from settings and retrieval config. */
import type { RetrievalConfig } from '../config/schemas.js';
import type { Embedder } from './embedder.js';
import { LocalEmbedder } from './local-embedder.js';
import { OpenAiEmbedder } from './openai-embedder.js';

export type EmbeddingsProvider = 'local' | 'openai';

export function createEmbedder(
  provider: EmbeddingsProvider,
  retrieval: RetrievalConfig,
  openai: { apiKey?: string | undefined; baseURL?: string | undefined } = {},
): Embedder {
  if (provider === 'local') return new LocalEmbedder(retrieval.local.dimension);
  return new OpenAiEmbedder({ config: retrieval.openai, apiKey: openai.apiKey, baseURL: openai.baseURL });
}
