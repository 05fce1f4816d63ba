/** /healthz, /readyz and /metrics over real HTTP: beside a real Bolt HTTPReceiver, and on a server of their own. */
import { afterEach, describe, expect, it } from 'vitest';
import { OpsRoutes, startOpsServer, type OpsServer } from '../../adapters/ops/ops-routes.js';
import { readinessChecks } from '../../adapters/ops/readiness.js';
import { createSlackApp, type SlackRunner } from '../../adapters/slack/slack-app.js';
import { Engine, MemoryMarks, MemorySessionStore, Metrics, createEngine, loadSettings, silentLogger, type EngineSetup } from '../../src/index.js';
import { FakeSlack, eventCallback, sendSigned } from '../fakes/slack.js';
import { repoConfig, repoRetriever } from '../helpers.js';
import { RedisServer, uniquePrefix } from '../redis/helpers.js'; // a server of the test's own: nothing to clean up
import { until } from '../wait.js';

const SECRET = 'ops-signing-secret';
const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

const get = async (url: string, method = 'GET') => {
  const res = await fetch(url, { method });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
};

async function standalone(ops: OpsRoutes): Promise<string> {
  const server: OpsServer = await startOpsServer(ops.handle, 0, '127.0.0.1');
  stops.push(() => server.close());
  return `http://127.0.0.1:${server.port}`;
}

describe('ops routes beside Slack events (Bolt HTTPReceiver customRoutes)', () => {
  it('/slack/events still works; /healthz, /readyz and /metrics answer on the same port, metrics after a turn', async () => {
    const fake = new FakeSlack();
    const apiUrl = await fake.start();
    stops.push(() => fake.stop());
    const metrics = new Metrics({ processMetrics: false });
    const engine = new Engine({ config: repoConfig(), store: new MemorySessionStore(), retriever: repoRetriever(), observer: metrics, options: { maxMessageChars: 4000 } });
    const ops = new OpsRoutes({ metrics, checks: readinessChecks({ redis: undefined, queue: undefined, overrides: undefined }, { started: () => true }) });
    const runner: SlackRunner = createSlackApp(
      { botToken: 'xoxb-test', signingSecret: SECRET, apiUrl, port: 0, allowChannels: true, customRoutes: ops.boltRoutes() },
      { engine, marks: new MemoryMarks(), logger: silentLogger, metrics },
    );
    const port = await runner.start();
    stops.push(() => runner.stop());
    const base = `http://127.0.0.1:${port}`;

    expect(await get(`${base}/healthz`)).toMatchObject({ status: 200, body: 'ok\n' });
    const ready = await get(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: 'ready', checks: { redis: 'off', index: 'ok', overrides: 'off', queue: 'ok', started: 'ok', shutdown: 'ok' } });
    expect((await get(`${base}/healthz`, 'HEAD')).status).toBe(200);

    const event = eventCallback({ type: 'message', channel: 'D0OPS', channel_type: 'im', user: 'U0OPSPERSON', text: 'hello Zanzibar', ts: '1700000300.000001' });
    expect((await sendSigned(`${base}/slack/events`, event, SECRET)).status).toBe(200);
    expect((await sendSigned(`${base}/slack/events`, event, SECRET, { retryNum: 1 })).status).toBe(200); // a retry: one dedupe hit
    await fake.waitFor('chat.postMessage');
    // The counts follow the post: scraped once the reply is counted.
    const scraped = await until(async () => {
      const m = await get(`${base}/metrics`);
      return /^trt_replies_total\{platform="slack"\} [1-9]/m.test(m.body) && m;
    }, { timeoutMs: 5000, what: 'trt_replies_total' });
    expect(scraped.status).toBe(200);
    expect(scraped.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(scraped.body).toMatch(/^trt_turns_total\{platform="slack",kind="reply",substate="[^"]+"\} 1$/m);
    expect(scraped.body).toMatch(/^trt_replies_total\{platform="slack"\} 1$/m);
    expect(scraped.body).toMatch(/^trt_reply_latency_seconds_count\{platform="slack"\} 1$/m);
    expect(scraped.body).toMatch(/^trt_dedupe_hits_total\{platform="slack"\} 1$/m);
    expect(scraped.body).not.toMatch(/Zanzibar|U0OPSPERSON|D0OPS/);

    // Other paths and methods are still Bolt's: an unknown path is not ours.
    expect((await get(`${base}/nope`)).status).toBe(404);
    ops.shuttingDown();
    const draining = await get(`${base}/readyz`);
    expect(draining.status).toBe(503);
    expect(JSON.parse(draining.body)).toMatchObject({ status: 'not ready', checks: { shutdown: 'shutting down' } });
    expect((await get(`${base}/healthz`)).status).toBe(200);
  });
});

describe('ops routes on a server of their own', () => {
  it('serves the three paths, 404 elsewhere, 405 for other methods, and no body for HEAD', async () => {
    const metrics = new Metrics();
    let started = false;
    const ops = new OpsRoutes({ metrics, checks: readinessChecks({ redis: undefined, queue: undefined, overrides: undefined }, { started: () => started }) });
    const base = await standalone(ops);
    expect(await get(`${base}/healthz`)).toMatchObject({ status: 200, body: 'ok\n' });
    const starting = await get(`${base}/readyz?verbose=1`);
    expect(starting.status).toBe(503);
    expect(starting.type).toBe('application/json');
    expect(JSON.parse(starting.body).checks.started).toBe('starting');
    started = true;
    expect((await get(`${base}/readyz`)).status).toBe(200);
    const m = await get(`${base}/metrics`);
    expect(m.status).toBe(200);
    expect(m.body).toContain('# TYPE trt_turns_total counter');
    expect(m.body).toContain('process_resident_memory_bytes');
    expect((await get(`${base}/elsewhere`)).status).toBe(404);
    expect((await get(`${base}/metrics`, 'POST')).status).toBe(405);
    expect(await get(`${base}/metrics`, 'HEAD')).toMatchObject({ status: 200, body: '' });
    ops.shuttingDown();
    expect((await get(`${base}/readyz`)).status).toBe(503);
  });

  it('a check that throws or hangs fails readiness with its name, and the probe still answers', async () => {
    const ops = new OpsRoutes({
      metrics: new Metrics({ processMetrics: false }),
      checks: { fine: () => 'ok', broken: () => Promise.reject(new Error('x')), stuck: () => new Promise(() => undefined) },
      checkTimeoutMs: 100,
    });
    const res = await get(`${await standalone(ops)}/readyz`);
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body).checks).toEqual({ fine: 'ok', broken: 'error', stuck: 'timeout', shutdown: 'ok' });
  });
});

describe('readiness and metrics with Redis (createEngine)', () => {
  it('ready while Redis answers; 503 naming redis once it is gone; Redis errors, dedupe hits and queue depth counted', { timeout: 30_000 }, async () => {
    const server = await RedisServer.start();
    stops.push(() => server.destroy());
    const prefix = uniquePrefix();
    const setup: EngineSetup = await createEngine(loadSettings({ REDIS_URL: server.url, REDIS_KEY_PREFIX: prefix, REDIS_COMMAND_TIMEOUT_MS: '500' }), silentLogger);
    stops.push(() => setup.close().catch(() => undefined));
    const ops = new OpsRoutes({ metrics: setup.metrics, checks: readinessChecks(setup, { started: () => true, pingTimeoutMs: 300 }) });
    const base = await standalone(ops);

    const up = await get(`${base}/readyz`);
    expect(up.status).toBe(200);
    expect(JSON.parse(up.body).checks).toEqual({ redis: 'ok', index: 'ok', overrides: 'ok', queue: 'ok', started: 'ok', shutdown: 'ok' });

    const msg = { id: 'C1:1', sessionId: 'slack:T0R:D0R', userId: 'U0R', platform: 'slack', text: 'hi', replyTo: {}, receivedAt: Date.now() };
    await setup.queue!.ensureGroup();
    expect(await setup.queue!.enqueue(msg)).toBe('queued');
    expect(await setup.queue!.enqueue(msg)).toBe('duplicate');
    const scraped = (await get(`${base}/metrics`)).body;
    expect(scraped).toMatch(/^trt_dedupe_hits_total\{platform="slack"\} 1$/m);
    expect(scraped).toMatch(/^trt_queue_depth\{state="waiting"\} \d+$/m);
    expect(scraped).toMatch(/^trt_queue_depth\{state="pending"\} 0$/m);

    await server.kill();
    const down = await until(async () => {
      const r = await get(`${base}/readyz`);
      return r.status === 503 && r;
    }, { timeoutMs: 5000, everyMs: 100, what: 'a 503 from /readyz' });
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body).checks.redis).toMatch(/unreachable|timeout/);
    const started = Date.now();
    const first = await get(`${base}/metrics`); // the depth read must not hold up the scrape
    expect(Date.now() - started).toBeLessThan(3000);
    // The client reports an error on each failed reconnect attempt (the first within ~50 ms).
    const errorsCounted = (m: { body: string }) => /^trt_redis_errors_total [1-9]\d*$/m.test(m.body);
    const afterKill = errorsCounted(first)
      ? first
      : await until(async () => {
          const m = await get(`${base}/metrics`);
          return errorsCounted(m) && m;
        }, { timeoutMs: 10_000, everyMs: 100, what: 'trt_redis_errors_total above 0' });
    expect(afterKill.body).toMatch(/^trt_redis_errors_total [1-9]\d*$/m);
    expect(afterKill.body).not.toMatch(/^trt_queue_depth\{/m);
  });
});
