/** Shared test wiring: the real config, the real corpus, the memory store. */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { resolve } from 'node:path';
import {
  Engine,
  FaissRetriever,
  LocalEmbedder,
  MemorySessionStore,
  silentLogger,
  TurnCounters,
  loadEngineConfig,
  loadExchanges,
  type EngineConfig,
  type SessionStore,
  type TurnInput,
} from '../src/index.js';

export const ROOT = resolve(import.meta.dirname, '..');
export const CONFIG_DIR = resolve(ROOT, 'config');
export const DATA_DIR = resolve(ROOT, 'data');

let cached: EngineConfig | undefined;
/** The repository's config (parsed once per test file; callers must not mutate it). */
export function repoConfig(): EngineConfig {
  cached ??= loadEngineConfig(CONFIG_DIR);
  return cached;
}

export const exchanges = loadExchanges(DATA_DIR);

let retriever: FaissRetriever | undefined;
/** The shipped FAISS index with the local embedder (loaded once per test file). */
export function repoRetriever(): FaissRetriever {
  retriever ??= FaissRetriever.load({
    dataDir: DATA_DIR,
    exchanges,
    embedder: new LocalEmbedder(repoConfig().retrieval.local.dimension),
    retrieval: repoConfig().retrieval,
    logger: silentLogger,
  });
  return retriever;
}

export function makeEngine(opts: { config?: EngineConfig; store?: SessionStore; maxMessageChars?: number } = {}) {
  const store = opts.store ?? new MemorySessionStore();
  const counters = new TurnCounters();
  const engine = new Engine({
    config: opts.config ?? repoConfig(),
    store,
    retriever: repoRetriever(),
    observer: counters,
    options: { maxMessageChars: opts.maxMessageChars ?? 4000 },
  });
  return { engine, store, counters };
}

/** A chat helper bound to one session. */
export function chat(engine: Engine, sessionId = 'console:test', userId = 'test', platform = 'console') {
  return (text: string, extra: Partial<TurnInput> = {}) => engine.handleTurn({ sessionId, userId, platform, text, ...extra });
}

/** `npm start` (the terminal chat when no platform is configured) with `input` piped in. */
export function npmStart(input: string, env: Record<string, string> = {}): Promise<Piped> {
  return pipeTo('npm', ['start', '--silent'], input, { ...process.env, ...env });
}

export interface Piped {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command` in the project folder with exactly `env`, `input` piped in; resolves with its exit code and output. */
export function pipeTo(command: string, args: string[], input: string, env: NodeJS.ProcessEnv): Promise<Piped> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Calls an outlet turn's preview `count` times, `everyMs` apart, each time with a longer start of `text` (an LLM writing). */
export async function streamPreviews(turn: { preview?: (t: string) => void }, text: string, count: number, everyMs: number): Promise<string[]> {
  const sent: string[] = [];
  for (let i = 1; i <= count; i++) {
    const partial = text.slice(0, Math.ceil((text.length * i) / count));
    turn.preview!(partial);
    sent.push(partial);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return sent;
}

/** Runs `scripts/<script>` as a real process (node --import tsx) and returns its exit code and output. */
export async function runScript(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', `scripts/${script}`, ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
