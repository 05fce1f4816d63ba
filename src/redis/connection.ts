/**
 * Builds the ioredis client from settings: one server (REDIS_URL: redis://,
 * rediss:// for TLS, user:password@ for ACLs), a Cluster (REDIS_CLUSTER_NODES)
 * or Sentinel (REDIS_SENTINELS + REDIS_SENTINEL_NAME), and waits until it is
 * ready, failing with a clear error rather than falling back silently.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

export interface RedisConnectionSettings {
  url?: string | undefined;
  clusterNodes?: string | undefined;
  sentinels?: string | undefined;
  sentinelName?: string | undefined;
  /** A command waiting longer than this fails (the turn answers "try again shortly"). */
  commandTimeoutMs: number;
}

function hostPorts(list: string): Array<{ host: string; port: number }> {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((hp) => {
      const i = hp.lastIndexOf(':');
      const port = Number(hp.slice(i + 1));
      if (i <= 0 || !Number.isInteger(port)) throw new Error(`"${hp}" is not host:port`);
      return { host: hp.slice(0, i), port };
    });
}

/** Options shared by every mode: fail fast per command, reconnect forever in the background. */
function baseOptions(s: RedisConnectionSettings): RedisOptions {
  return {
    lazyConnect: true,
    // Off: measured with `npm run bench -- --only redis|queue`, ioredis's auto-pipelining cost more
    // CPU and doubled p99 latency under open-loop load (a turn is already 2 round trips).
    enableAutoPipelining: false,
    commandTimeout: s.commandTimeoutMs,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
  };
}

/** A human-readable description of where the client connects (no password). */
export function describeRedis(s: RedisConnectionSettings): string {
  if (s.clusterNodes) return `Redis Cluster (${s.clusterNodes})`;
  if (s.sentinels) return `Redis Sentinel ${s.sentinelName ?? 'mymaster'} (${s.sentinels})`;
  try {
    const u = new URL(s.url ?? '');
    return `Redis ${u.protocol}//${u.hostname}:${u.port || 6379}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
  } catch {
    return 'Redis';
  }
}

/** Credentials and TLS from REDIS_URL, for the Cluster and Sentinel modes (which take nodes from elsewhere). */
function authFromUrl(url: string | undefined): RedisOptions {
  if (!url) return {};
  const u = new URL(url);
  return {
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

export function createRedisClient(s: RedisConnectionSettings): RedisClient {
  const base = baseOptions(s);
  const auth = authFromUrl(s.url);
  if (s.clusterNodes) {
    const options: ClusterOptions = {
      lazyConnect: true,
      enableAutoPipelining: false,
      clusterRetryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
      redisOptions: { ...base, ...auth },
    };
    return new Cluster(hostPorts(s.clusterNodes), options);
  }
  if (s.sentinels) {
    // The same password (and TLS) for the Sentinels and the master they name.
    const sentinelAuth = { ...(auth.password ? { sentinelPassword: auth.password } : {}), ...(auth.tls ? { sentinelTLS: {}, enableTLSForSentinelMode: true } : {}) };
    return new Redis({ ...base, ...auth, ...sentinelAuth, sentinels: hostPorts(s.sentinels), name: s.sentinelName ?? 'mymaster' });
  }
  if (!s.url) throw new Error('REDIS_URL is not set');
  return new Redis(s.url, base);
}

/** Connects and waits for `ready`; rejects with the cause when Redis cannot be reached in time. */
export async function connectRedis(client: RedisClient, timeoutMs = 5000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
    ]);
    await client.ping();
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Routes a connection's `error` events to the JSON log (its code only), at most one line per
 * `everyMs` while the trouble lasts, and one line when it is ready again. ioredis prints
 * "[ioredis] Unhandled error event" with a stack trace as plain text when a connection has no
 * `error` listener: every connection the bot opens gets this one.
 */
export function watchRedisErrors(client: Pick<Redis, 'on'> | Pick<Cluster, 'on'>, logger: { warn(o: object, m?: string): void; info(o: object, m?: string): void }, name: string, everyMs = 10_000): void {
  let last = 0;
  let failing = false;
  const on = client.on.bind(client) as (event: string, fn: (...a: any[]) => void) => unknown;
  on('error', (err: { code?: string; name?: string }) => {
    failing = true;
    const now = Date.now();
    if (now - last < everyMs) return;
    last = now;
    logger.warn({ redis: name, err: err?.code ?? err?.name ?? 'unknown' }, 'Redis connection error; reconnecting');
  });
  on('ready', () => {
    if (!failing) return;
    failing = false;
    last = 0;
    logger.info({ redis: name }, 'Redis connection ready again');
  });
}
