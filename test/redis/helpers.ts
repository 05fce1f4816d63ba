/**
 * Real Redis for tests: the machine's server on 127.0.0.1:6379 with a unique
 * key prefix per test (cleaned up with SCAN, never KEYS), and redis-server
 * processes the tests start themselves (restarts with AOF, a 3-master Cluster).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { deletePrefix } from '../../scripts/bench/measure.js';
import { connectRedis, createRedisClient, type RedisClient } from '../../src/redis/connection.js';
import { until } from '../wait.js';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniquePrefix(): string {
  return `trttest-${randomBytes(4).toString('hex')}`;
}

export function client(url = REDIS_URL): Redis {
  return new Redis(url, { lazyConnect: false, enableAutoPipelining: true, maxRetriesPerRequest: 1, commandTimeout: 2000 });
}

/** Deletes every key under a prefix (SCAN + DEL, never KEYS): the bench's own cleanup. */
export function cleanup(prefix: string, url = REDIS_URL): Promise<void> {
  return deletePrefix(url, prefix);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPing(port: number, timeoutMs = 10_000): Promise<void> {
  const pong = () => spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG';
  await until(pong, { timeoutMs, everyMs: 50, what: `redis-server on port ${port} to answer PING` });
}

/** A redis-server of the test's own, on a free port, in its own folder. */
export class RedisServer {
  private proc: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'trt-redis-'));
  constructor(readonly port: number, private readonly args: string[] = []) {}

  static async start(args: string[] = []): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), args);
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', ...this.args], { stdio: 'ignore' });
    await waitForPing(this.port);
  }

  /** Stops the process (SIGKILL: as abrupt as a crash) and waits for it to exit. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return; // already gone (a killed process has no exit code)
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  }

  /** Sends the process a signal (SIGSTOP / SIGCONT: a server that hangs, then resumes). */
  signal(sig: NodeJS.Signals): void {
    this.proc?.kill(sig);
  }

  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Three masters with cluster mode on, joined with redis-cli --cluster create. */
export async function startCluster(): Promise<{ nodes: RedisServer[]; seeds: string; stop: () => Promise<void> }> {
  const nodes = await Promise.all(
    [0, 1, 2].map(() => RedisServer.start(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000', '--appendonly', 'no'])),
  );
  const addrs = nodes.map((n) => `127.0.0.1:${n.port}`);
  const created = spawnSync('redis-cli', ['--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
  if (created.status !== 0) throw new Error(`cluster create failed: ${created.stdout}${created.stderr}`);
  const ready = () => nodes.every((n) => spawnSync('redis-cli', ['-p', String(n.port), 'cluster', 'info'], { encoding: 'utf8' }).stdout.includes('cluster_state:ok'));
  await until(ready, { timeoutMs: 15_000, everyMs: 100, what: 'cluster_state:ok on every node' });
  return { nodes, seeds: addrs.join(','), stop: async () => void (await Promise.all(nodes.map((n) => n.destroy()))) };
}

/**
 * A 3-master Cluster for this test file: started before its tests, stopped after, with
 * every client `connect()` made disconnected first.
 */
export function useCluster(): { connect: (commandTimeoutMs?: number) => Promise<RedisClient> } {
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  const clients: RedisClient[] = [];
  beforeAll(async () => {
    cluster = await startCluster();
  }, 60_000);
  afterAll(async () => {
    clients.forEach((c) => c.disconnect());
    await cluster.stop();
  });
  return {
    connect: async (commandTimeoutMs = 2000) => {
      const c = createRedisClient({ clusterNodes: cluster.seeds, commandTimeoutMs });
      c.on('error', () => undefined);
      await connectRedis(c);
      clients.push(c);
      return c;
    },
  };
}
