/**
 * The engine's public entry: adapters and scripts import from here only.
 */
export type { Exchange, RetrievalConfig } from './config/schemas.js';
export { Engine, type EngineDeps, type EngineOptions, type TurnHooks, type TurnInput, type TurnResult } from './engine/engine.js';
export { TurnCounters, type TurnEvent, type TurnKind, type TurnObserver } from './engine/observer.js';
export type { SessionState } from './engine/session-state.js';
export { loadEngineConfig, loadExchanges, ConfigError, formatProblems, jsonPath, EXCHANGES_FILE, type EngineConfig, type ConfigProblem } from './config/load.js';
export { loadSettings, settingsOrReport, SettingsError, type Settings } from './config/settings.js';
export { checkConfig } from './config/check.js';
export { Classifier, type Classification } from './classifier/classifier.js';
export { Navigator, type Decision, type NavState } from './navigator/navigator.js';
export { CrisisCheck, type SafetyAssessment } from './safety/crisis-check.js';
export { OfflineResponder } from './responder/offline-responder.js';
export type { Responder, ResponderInput, ResponderOutput } from './responder/responder.js';
export type { Embedder } from './rag/embedder.js';
export { LocalEmbedder, LOCAL_MODEL } from './rag/local-embedder.js';
export { OpenAiEmbedder } from './rag/openai-embedder.js';
export { createEmbedder, type EmbeddingsProvider } from './rag/create-embedder.js';
export { FaissIndex } from './rag/faiss-index.js';
export type { VectorIndex, SearchHit } from './rag/vector-index.js';
export { FaissRetriever, IndexMismatchError, rebuildCommand } from './rag/faiss-retriever.js';
export { buildIndex, planBuild, previousVectors, type BuildResult, type BuildPlan } from './rag/build-index.js';
export { INDEX_FILES, IndexMetadataSchema, corpusChecksum, type IndexMetadata } from './rag/index-files.js';
export type { Retriever, RetrievedExample, RetrievalQuery } from './rag/retriever.js';
export { MemorySessionStore, type MemoryStoreOptions } from './session/memory-store.js';
export * from './session/store.js';
export { RedisSessionStore, type RedisStoreOptions } from './session/redis/redis-store.js';
export { createRedisClient, connectRedis, type RedisClient } from './session/redis/connection.js';
export { KeyLayout } from './session/redis/keys.js';
export { MemoryMarks, type Marks } from './session/marks.js';
export { RedisMarks } from './session/redis/redis-marks.js';
export { AesGcmCipher, parseKey, plainText, type TextCipher } from './session/cipher.js';
export { createSessionStore, createRedisStore, usesRedis } from './session/create-store.js';
export { silentLogger, type Logger } from './util/logger.js';
export { errorCode } from './util/error-code.js';
export { createEngine, type EngineSetup } from './setup.js';
