/**
 * The Slack HTTP edge under a flood: the real Slack app (HTTP mode, our edge
 * receiver, the in-memory queue, the real engine) against the local fake Slack
 * Web API, as in slack.ts. Signed DM events are sent open-loop at a steady rate
 * and each is timed until its HTTP 200 (the ack), in three phases:
 *
 *   alone      no other traffic
 *   unsigned   while a flood of unsigned ~4 MB bodies runs (refused on the headers: 401)
 *   oversized  while a flood of signed ~4 MB bodies runs, half with a Content-Length
 *              (413 on the headers), half chunked (the edge reads up to its limit: 413)
 *
 * The flood (edge-flood.ts) runs in a child process, as an attacker would be
 * another process: its CPU and buffers are not the bot's, though on this machine
 * it competes for the same cores. The DM sender and the fake Slack share the
 * bot's process, as in slack.ts. RSS is the bot's process.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createSlackApp } from '../../adapters/slack/slack-app.js';
import type { EdgeRejection } from '../../adapters/slack/edge/edge-receiver.js';
import { MemoryMarks, silentLogger, type Engine } from '../../src/index.js';
import { FakeSlack, eventCallback } from '../../test/fakes/slack.js';
import type { FloodCounts } from './edge-flood.js';
import { percentile } from './synthetic.js';

export interface EdgePhase {
  phase: 'alone' | 'unsigned' | 'oversized';
  events: number;
  /** Events not answered 200 within 5 s (status, or the error's name). */
  failed: Record<string, number>;
  p50ms: number;
  p95ms: number;
  p99ms: number;
  maxMs: number;
  /** The bot process's event-loop delay during the DMs (1 ms timer). */
  loopDelayP99ms: number;
  /** The bot process's RSS before the phase and the highest sampled during it (MB). */
  rssBeforeMb: number;
  rssPeakMb: number;
  /** Refusals counted by the edge (onEdgeReject) from the flood's start to its stop. */
  refusals: Partial<Record<EdgeRejection, number>>;
  flood?: FloodCounts & { mbPerSec: number; perSec: number };
}

export interface EdgeFigures {
  ratePerSec: number;
  seconds: number;
  floodConnections: number;
  floodBodyBytes: number;
  phases: EdgePhase[];
  rssStartMb: number;
  rssEndMb: number;
}

const SECRET = 'bench-secret';
const mb = (n: number) => +(n / 1024 / 1024).toFixed(1);

/** Like sendSigned in test/fakes/slack.ts (v0 HMAC-SHA256), with a time limit so a stalled ack cannot hang the bench. */
async function sendSigned(url: string, body: unknown): Promise<{ status: number | string; ms: number }> {
  const raw = JSON.stringify(body);
  const ts = Math.floor(Date.now() / 1000);
  const sig = `v0=${createHmac('sha256', SECRET).update(`v0:${ts}:${raw}`).digest('hex')}`;
  const started = performance.now();
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-slack-signature': sig, 'x-slack-request-timestamp': String(ts) }, body: raw, signal: AbortSignal.timeout(5000) });
    await res.text();
    return { status: res.status, ms: performance.now() - started };
  } catch (err) {
    return { status: err instanceof Error ? err.name : 'error', ms: performance.now() - started };
  }
}

/** Forks the flood and resolves once it runs; `stop` ends it and resolves with its counts (it is killed if it does not answer). */
async function startFlood(port: number, mode: 'unsigned' | 'oversized', connections: number, bytes: number) {
  const child: ChildProcess = fork(join(import.meta.dirname, 'edge-flood.ts'), [String(port), mode, String(connections), String(bytes), SECRET], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let counts: FloodCounts | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (m: { ready?: boolean } | FloodCounts) => {
      if ('ready' in m) resolve();
      else counts = m as FloodCounts;
    });
    child.once('exit', (code) => reject(new Error(`flood exited early (${code})`)));
  });
  const kill = setTimeout(() => child.kill('SIGKILL'), 15_000); // bound: the flood never outlives a phase by much
  kill.unref();
  try {
    await ready;
  } catch (err) {
    clearTimeout(kill);
    throw err;
  }
  return {
    async stop(): Promise<FloodCounts> {
      if (child.connected) child.send('stop');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      clearTimeout(kill);
      if (!counts) throw new Error('the flood ended without its counts');
      return counts;
    },
    kill: () => child.exitCode === null && child.kill('SIGKILL'),
  };
}

export async function benchEdge(engine: Engine, opts: { ratePerSec?: number; seconds?: number; connections?: number; bodyBytes?: number } = {}): Promise<EdgeFigures> {
  const ratePerSec = opts.ratePerSec ?? 50;
  const seconds = opts.seconds ?? 10;
  const connections = opts.connections ?? 8;
  const bodyBytes = opts.bodyBytes ?? 4_100_000; // the tester's 4.1 MB
  const fake = new FakeSlack();
  const apiUrl = await fake.start();
  let refusals: Partial<Record<EdgeRejection, number>> = {};
  const runner = createSlackApp(
    { botToken: 'xoxb-bench', signingSecret: SECRET, apiUrl, port: 0, allowChannels: false },
    { engine, marks: new MemoryMarks(), logger: silentLogger, onEdgeReject: (r) => void (refusals[r] = (refusals[r] ?? 0) + 1) },
  );
  const port = await runner.start();
  const url = `http://127.0.0.1:${port}/slack/events`;
  let flood: Awaited<ReturnType<typeof startFlood>> | undefined;
  let n = 0; // events sent so far, all phases: a new DM channel and ts for each

  /** Open loop: `count` DM events at `ratePerSec`, each timed until its response. */
  async function sendDms(count: number) {
    const latencies: number[] = [];
    const failed: Record<string, number> = {};
    const inflight: Array<Promise<void>> = [];
    const started = performance.now();
    for (let i = 0; i < count; i++, n++) {
      const wait = started + (i * 1000) / ratePerSec - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const event = eventCallback({ type: 'message', channel: `D${n}`, channel_type: 'im', user: `U${n % 256}`, text: n % 2 ? 'I want to feel calm' : 'hello', ts: `1700000000.${String(n).padStart(6, '0')}` });
      inflight.push(
        sendSigned(url, event).then(({ status, ms }) => {
          if (status === 200) latencies.push(ms);
          else failed[String(status)] = (failed[String(status)] ?? 0) + 1;
        }),
      );
    }
    await Promise.all(inflight);
    return { latencies, failed };
  }

  async function phase(name: EdgePhase['phase']): Promise<EdgePhase> {
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => void (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 100);
    refusals = {}; // from the flood's start, like its own counts
    if (name !== 'alone') {
      flood = await startFlood(port!, name, connections, bodyBytes);
      await new Promise((r) => setTimeout(r, 300)); // let it reach its pace
    }
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const { latencies, failed } = await sendDms(ratePerSec * seconds);
    loop.disable();
    const floodCounts = flood ? await flood.stop() : undefined;
    flood = undefined;
    clearInterval(sampler);
    const refused = { ...refusals };
    const r = (x: number) => +x.toFixed(2);
    return {
      phase: name,
      events: ratePerSec * seconds,
      failed,
      p50ms: r(percentile(latencies, 0.5)),
      p95ms: r(percentile(latencies, 0.95)),
      p99ms: r(percentile(latencies, 0.99)),
      maxMs: r(Math.max(...latencies)),
      loopDelayP99ms: r(loop.percentile(99) / 1e6),
      rssBeforeMb: mb(rssBefore),
      rssPeakMb: mb(rssPeak),
      refusals: refused,
      ...(floodCounts ? { flood: { ...floodCounts, perSec: Math.round(floodCounts.requests / floodCounts.seconds), mbPerSec: Math.round(floodCounts.bytesSent / 1e6 / floodCounts.seconds) } } : {}),
    };
  }

  try {
    await sendDms(ratePerSec); // warm-up, one second, not measured
    const rssStart = process.memoryUsage().rss;
    const phases = [await phase('alone'), await phase('unsigned'), await phase('oversized')];
    await fake.waitFor('chat.postMessage', n, 30_000); // every event was answered, not only acknowledged
    return { ratePerSec, seconds, floodConnections: connections, floodBodyBytes: bodyBytes, phases, rssStartMb: mb(rssStart), rssEndMb: mb(process.memoryUsage().rss) };
  } finally {
    flood?.kill();
    await runner.stop();
    await fake.stop();
  }
}
