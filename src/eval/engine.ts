/**
 * The engine the conversation evaluation runs: the repository's config and example corpus,
 * the shipped FAISS index with the local embedder, the shipped risk model, the memory store and
 * the offline responder (no LLM: the figures are deterministic and need no key).
 */
import { join } from 'node:path';
import { Engine, FaissRetriever, LocalEmbedder, MemorySessionStore, loadEngineConfig, loadExchanges, silentLogger, type EngineConfig, type TurnObserver } from '../index.js';
import { RiskModel } from '../safety/model/risk-model.js';
import type { EvalDeps } from './conversations.js';

export function evalDeps(root: string, configDir = join(root, 'config')): EvalDeps & { config: EngineConfig } {
  const config = loadEngineConfig(configDir);
  const dataDir = join(root, 'data');
  const retriever = FaissRetriever.load({
    dataDir,
    exchanges: loadExchanges(dataDir),
    embedder: new LocalEmbedder(config.retrieval.local.dimension),
    retrieval: config.retrieval,
    logger: silentLogger,
  });
  const riskModel = RiskModel.load(join(dataDir, 'safety', 'risk_model.json'));
  return {
    config,
    engine: () => {
      const store = new MemorySessionStore();
      let listener: TurnObserver['turn'] = () => {};
      const observer: TurnObserver = { turn: (e) => listener(e) };
      const engine = new Engine({ config, store, retriever, riskModel, observer, options: { maxMessageChars: 4000 } });
      return { engine, store, observe: (f) => void (listener = f) };
    },
  };
}
