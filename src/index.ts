/**
 * The engine's public entry: adapters and scripts import from here only.
 */
export { Engine, type EngineDeps, type EngineOptions, type TurnInput, type TurnResult } from './engine/engine.js';
export { TurnCounters, type TurnEvent, type TurnKind, type TurnObserver } from './engine/observer.js';
export type { SessionState } from './engine/session-state.js';
export { loadEngineConfig, loadExchanges, ConfigError, formatProblems, type EngineConfig, type ConfigProblem } from './config/load.js';
export { loadSettings, SettingsError, type Settings } from './config/settings.js';
export { checkConfig } from './config/check.js';
export { Classifier, type Classification } from './classifier/classifier.js';
export { Navigator, type Decision, type NavState } from './navigator/navigator.js';
export { CrisisCheck, type SafetyAssessment } from './safety/crisis-check.js';
export { OfflineResponder } from './responder/offline-responder.js';
export type { Responder, ResponderInput, ResponderOutput } from './responder/responder.js';
export { LexicalRetriever } from './rag/lexical-retriever.js';
export type { Retriever, RetrievedExample, RetrievalQuery } from './rag/retriever.js';
export { MemorySessionStore, type MemoryStoreOptions } from './session/memory-store.js';
export * from './session/store.js';
export { silentLogger, type Logger } from './util/logger.js';
export { createEngine, type EngineSetup } from './setup.js';
