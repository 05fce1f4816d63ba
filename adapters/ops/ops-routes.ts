/**
 * Health and metrics over HTTP for load balancers, orchestrators and Prometheus:
 *
 * - `/healthz`: 200 `ok` while the process runs (liveness: restart it only if this fails);
 * - `/readyz`: 200 when every check passes, else 503; both with the checks as JSON, so an
 *   operator sees which one failed. 503 from the start of shutdown, so a load balancer
 *   drains the instance before its receivers stop;
 * - `/metrics`: the Prometheus exposition of this instance's registry.
 *
 * One plain node:http handler, mounted beside `/slack/events` on Bolt's HTTP receiver
 * (`boltRoutes`) or served on its own (`startOpsServer`) when nothing else listens on
 * PORT. Requests are never logged: these endpoints are polled every few seconds.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** 'ok' passes, 'off' passes (not configured here); any other value names the failure. */
export type CheckResult = 'ok' | 'off' | (string & {});
export type Check = () => CheckResult | Promise<CheckResult>;

export interface OpsOptions {
  /** The instance's metrics (`EngineSetup.metrics`). */
  metrics: { scrape(): Promise<{ contentType: string; body: string }> };
  /** Readiness checks by name (see readiness.ts). */
  checks: Record<string, Check>;
  /** A check that has not answered within this is failed as 'timeout'. Default 2 s. */
  checkTimeoutMs?: number;
}

export type OpsHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

const PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export class OpsRoutes {
  private stopping = false;
  constructor(private readonly opts: OpsOptions) {}

  /** From now on /readyz answers 503 (shutdown has begun); /healthz and /metrics still answer. */
  shuttingDown(): void {
    this.stopping = true;
  }

  /** Runs every check; `ready` when each is 'ok' or 'off' and shutdown has not begun. */
  async readiness(): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
    const names = Object.keys(this.opts.checks);
    const timeoutMs = this.opts.checkTimeoutMs ?? 2000;
    const results = await Promise.all(names.map((n) => settle(this.opts.checks[n]!, timeoutMs)));
    const checks: Record<string, CheckResult> = Object.fromEntries(names.map((n, i) => [n, results[i]!]));
    checks.shutdown = this.stopping ? 'shutting down' : 'ok';
    const ready = Object.values(checks).every((c) => c === 'ok' || c === 'off');
    return { ready, checks };
  }

  /** Answers the three paths (GET or HEAD) and returns true; false for anything else. */
  readonly handle: OpsHandler = (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (!PATHS.has(path)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(req, res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { allow: 'GET, HEAD' });
      return true;
    }
    // Errors are answered as 500 with no detail (none is expected: checks report failures as values).
    const fail = () => {
      if (!res.headersSent) send(req, res, 500, 'text/plain; charset=utf-8', 'error\n');
    };
    if (path === '/healthz') send(req, res, 200, 'text/plain; charset=utf-8', 'ok\n');
    else if (path === '/readyz')
      void this.readiness()
        .then(({ ready, checks }) => send(req, res, ready ? 200 : 503, 'application/json', `${JSON.stringify({ status: ready ? 'ready' : 'not ready', checks })}\n`))
        .catch(fail);
    else
      void this.opts.metrics
        .scrape()
        .then(({ contentType, body }) => send(req, res, 200, contentType, body))
        .catch(fail);
    return true;
  };

  /** The routes for Bolt's HTTPReceiver `customRoutes`, beside `/slack/events`. */
  boltRoutes(): Array<{ path: string; method: string[]; handler: (req: IncomingMessage, res: ServerResponse) => void }> {
    return [...PATHS].map((path) => ({ path, method: ['GET', 'HEAD'], handler: (req, res) => void this.handle(req, res) }));
  }
}

function send(req: IncomingMessage, res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  // Never cached by a proxy: each probe must see the current state.
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(req.method === 'HEAD' ? undefined : body);
}

async function settle(check: Check, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  try {
    return await Promise.race([Promise.resolve().then(check), timeout]);
  } catch {
    return 'error';
  } finally {
    clearTimeout(timer);
  }
}

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/** The routes on a server of their own (Discord only, Socket Mode, the worker role); 404 elsewhere. */
export async function startOpsServer(handle: OpsHandler, port: number, host?: string): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    if (!handle(req, res)) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found\n');
    }
  });
  // Probes are short; a slow or idle client must not keep the server from closing at shutdown.
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
