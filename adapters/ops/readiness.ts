/**
 * The readiness checks of one instance, from what `createEngine` built. An
 * instance is ready to take traffic when Redis answers (if it is used), the
 * engine with its retrieval index and overrides is built, the queue's
 * connection is up, and its receivers and worker have started.
 */
import type { EngineSetup } from '../../src/index.js';
import type { Check } from './ops-routes.js';

export interface ReadinessState {
  /** Receivers and the worker this role runs have started (false while starting). */
  started(): boolean;
  /** PING timeout. Default 1 s: a probe must answer within the orchestrator's timeout. */
  pingTimeoutMs?: number;
}

type Client = { status: string; ping(): Promise<unknown> };

export function readinessChecks(setup: Pick<EngineSetup, 'redis' | 'queue' | 'overrides'>, state: ReadinessState): Record<string, Check> {
  const client = setup.redis as unknown as Client | undefined;
  const queueClient = setup.queue?.redis as unknown as Client | undefined;
  const pingTimeoutMs = state.pingTimeoutMs ?? 1000;
  return {
    redis: () => (client ? ping(client, pingTimeoutMs) : 'off'),
    // createEngine returns only once the index is loaded and matches the corpus (else it throws):
    // a setup to check at all means the index is in memory.
    index: () => 'ok',
    // createEngine waits for the overrides' first full load (retried until it succeeds), so this
    // says 'loading' only if something serves before then; without Redis there are none.
    overrides: () => (setup.overrides ? (setup.overrides.ready ? 'ok' : 'loading') : 'off'),
    // Without Redis the queue is in this process and always there.
    queue: () => (queueClient ? (queueClient.status === 'ready' ? 'ok' : `redis ${queueClient.status}`) : 'ok'),
    started: () => (state.started() ? 'ok' : 'starting'),
  };
}

/**
 * A PING within the timeout. A client that is not connected fails at once: ioredis would
 * queue the command until it reconnects, and the probe must say "not now" instead.
 */
async function ping(client: Client, timeoutMs: number): Promise<string> {
  if (client.status !== 'ready') return 'unreachable';
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  try {
    return await Promise.race([client.ping().then(() => 'ok'), timeout]);
  } catch {
    return 'unreachable';
  } finally {
    clearTimeout(timer);
  }
}
