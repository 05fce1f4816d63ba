/** The Metrics observer: what it counts, with which labels, and that no id or text ever becomes a label. */
import { throughRunner } from '../queue/recording-outlet.js';
import { describe, expect, it } from 'vitest';
import { Engine, MemorySessionStore, MemoryTurnQueue, Metrics, countDuplicates, createEngine, loadSettings, silentLogger, type TurnEvent } from '../../src/index.js';
import { repoConfig, repoRetriever } from '../helpers.js';

const turn = (over: Partial<TurnEvent> = {}): TurnEvent => ({
  platform: 'slack',
  tenant: 'acme',
  experiments: {},
  configVersion: '1',
  reached: [],
  completed: false,
  kind: 'reply',
  substate: '1.1_goal',
  action: 'ask_goal',
  interrupt: undefined,
  crisisReferral: false,
  newSession: false,
  durationMs: 3,
  ...over,
});

/** The value of one sample line, e.g. `trt_turns_total{platform="slack",kind="reply",substate="1.1_goal"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('Metrics', () => {
  it('counts turns by platform, kind and substate, their latency, sessions and crisis referrals', async () => {
    const m = new Metrics({ processMetrics: false });
    m.turn(turn({ newSession: true, durationMs: 2 }));
    m.turn(turn({ durationMs: 40 }));
    m.turn(turn({ platform: 'discord', kind: 'crisis', substate: undefined, crisisReferral: true, durationMs: 1 }));
    const text = await m.registry.metrics();
    expect(sample(text, 'trt_turns_total{platform="slack",kind="reply",substate="1.1_goal"}')).toBe(2);
    expect(sample(text, 'trt_turns_total{platform="discord",kind="crisis",substate="none"}')).toBe(1);
    expect(sample(text, 'trt_turn_duration_seconds_count{platform="slack",substate="1.1_goal"}')).toBe(2);
    expect(sample(text, 'trt_turn_duration_seconds_sum{platform="slack",substate="1.1_goal"}')).toBeCloseTo(0.042);
    expect(sample(text, 'trt_turn_duration_seconds_bucket{le="0.0025",platform="slack",substate="1.1_goal"}')).toBe(1);
    expect(sample(text, 'trt_turn_duration_seconds_bucket{le="0.001",platform="discord",substate="none"}')).toBe(1);
    expect(sample(text, 'trt_crisis_referrals_total{platform="discord"}')).toBe(1);
    expect(sample(text, 'trt_crisis_referrals_total{platform="slack"}')).toBeUndefined();
    expect(sample(text, 'trt_sessions_started_total{platform="slack"}')).toBe(1);
    expect(text).not.toContain('acme'); // tenants are not labels: an unlisted one is named by its id
  });

  it('counts LLM attempts by outcome and reason, their latency and tokens', async () => {
    const m = new Metrics({ processMetrics: false });
    m.llm({ outcome: 'ok', latencyMs: 800, promptTokens: 1200, completionTokens: 90, streamed: true });
    m.llm({ outcome: 'cached', latencyMs: 2, streamed: false });
    m.llm({ outcome: 'fallback', reason: 'timeout', latencyMs: 20_000, streamed: false });
    m.llm({ outcome: 'fallback', reason: 'guard', rule: 'banned:medication', latencyMs: 900, promptTokens: 1000, completionTokens: 50, streamed: false });
    m.llm({ outcome: 'risk', latencyMs: 700, streamed: false });
    const text = await m.registry.metrics();
    expect(sample(text, 'trt_llm_requests_total{outcome="ok",reason="none"}')).toBe(1);
    expect(sample(text, 'trt_llm_requests_total{outcome="cached",reason="none"}')).toBe(1);
    expect(sample(text, 'trt_llm_requests_total{outcome="fallback",reason="timeout"}')).toBe(1);
    expect(sample(text, 'trt_llm_requests_total{outcome="fallback",reason="guard"}')).toBe(1);
    expect(sample(text, 'trt_llm_requests_total{outcome="risk",reason="none"}')).toBe(1);
    expect(sample(text, 'trt_llm_tokens_total{kind="prompt"}')).toBe(2200);
    expect(sample(text, 'trt_llm_tokens_total{kind="completion"}')).toBe(140);
    expect(sample(text, 'trt_llm_duration_seconds_count{outcome="fallback"}')).toBe(2);
    expect(sample(text, 'trt_llm_duration_seconds_bucket{le="30",outcome="fallback"}')).toBe(2);
    expect(sample(text, 'trt_llm_duration_seconds_bucket{le="15",outcome="fallback"}')).toBe(1);
    expect(text).not.toContain('medication'); // the guard's rule stays in the log line
  });

  it('counts limits, dedupe hits, Redis errors and replies; reads queue depth and worker stats on scrape', async () => {
    let depthCalls = 0;
    const m = new Metrics({ processMetrics: false, depth: async () => (depthCalls++, { waiting: 3, pending: 2 }) });
    const stats = { reclaimed: 0, handedBack: 0, turns: 0 };
    m.watchWorker(() => stats);
    m.rateLimited();
    m.rateLimited();
    m.duplicate('slack');
    m.redisError();
    m.replied({ platform: 'discord', latencyMs: 1500 });
    stats.reclaimed = 4;
    stats.handedBack = 1;
    const text = await m.registry.metrics();
    expect(sample(text, 'trt_rate_limited_total')).toBe(2);
    expect(sample(text, 'trt_dedupe_hits_total{platform="slack"}')).toBe(1);
    expect(sample(text, 'trt_redis_errors_total')).toBe(1);
    expect(sample(text, 'trt_replies_total{platform="discord"}')).toBe(1);
    expect(sample(text, 'trt_reply_latency_seconds_bucket{le="1",platform="discord"}')).toBe(0);
    expect(sample(text, 'trt_reply_latency_seconds_bucket{le="2",platform="discord"}')).toBe(1);
    expect(sample(text, 'trt_queue_depth{state="waiting"}')).toBe(3);
    expect(sample(text, 'trt_queue_depth{state="pending"}')).toBe(2);
    expect(sample(text, 'trt_queue_takeovers_total')).toBe(4);
    expect(sample(text, 'trt_queue_handbacks_total')).toBe(1);
    expect(depthCalls).toBe(1);
    stats.reclaimed = 5; // mirrored, not added up, on the next scrape
    expect(sample(await m.registry.metrics(), 'trt_queue_takeovers_total')).toBe(5);
  });

  it('a queue depth that fails or hangs leaves the gauge empty and the scrape answers', async () => {
    const failing = new Metrics({ processMetrics: false, depth: () => Promise.reject(new Error('down')) });
    expect(await failing.registry.metrics()).not.toMatch(/^trt_queue_depth\{/m);
    const hanging = new Metrics({ processMetrics: false, depth: () => new Promise(() => undefined), depthTimeoutMs: 50 });
    const started = Date.now();
    expect(await hanging.registry.metrics()).not.toMatch(/^trt_queue_depth\{/m);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('has its own registry with process metrics, so two instances do not collide', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.rateLimited();
    expect(await a.registry.getSingleMetricAsString('trt_rate_limited_total')).toContain('trt_rate_limited_total 1');
    expect(await b.registry.getSingleMetricAsString('trt_rate_limited_total')).toContain('trt_rate_limited_total 0');
    const { contentType, body } = await a.scrape();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toContain('process_cpu_user_seconds_total');
    expect(body).toContain('nodejs_eventloop_lag_seconds');
    expect(body).toContain('process_resident_memory_bytes');
  });

  it('countDuplicates counts a queue\'s duplicate enqueues and keeps its class', async () => {
    const m = new Metrics({ processMetrics: false });
    const runner = { engine: { handleTurn: async () => ({ outcome: 'ignored' as const, why: 'blank' as const, kind: 'ignored' as const, reply: null, sessionId: 's' }), crisisResponse: () => null, texts: { disclosure: '', help: '', unavailable: '' } }, outlets: {}, logger: silentLogger };
    const queue = countDuplicates(new MemoryTurnQueue(runner as never), m);
    expect(queue).toBeInstanceOf(MemoryTurnQueue);
    const msg = { id: 'D1:1', sessionId: 'slack:T:D1', userId: 'U1', platform: 'slack', text: 'hi', replyTo: {}, receivedAt: Date.now() };
    expect(await queue.enqueue(msg)).toBe('queued');
    expect(await queue.enqueue(msg)).toBe('duplicate');
    expect(await queue.enqueue(msg)).toBe('duplicate');
    await queue.stop(1000);
    expect(await m.registry.getSingleMetricAsString('trt_dedupe_hits_total')).toContain('trt_dedupe_hits_total{platform="slack"} 2');
  });
});

describe('Metrics on a real engine', () => {
  it('a scripted conversation with a crisis statement: counts by substate, and no id or text in any label', async () => {
    const metrics = new Metrics({ processMetrics: false });
    const engine = new Engine({ config: repoConfig(), store: new MemorySessionStore(), retriever: repoRetriever(), observer: metrics, options: { maxMessageChars: 4000 } });
    const sessionId = 'slack:T0SECRETTEAM:D0SECRETDM';
    const say = (text: string) => engine.handleTurn({ sessionId, userId: 'U0SECRETUSER', platform: 'slack', tenant: 'T0SECRETTEAM', text });
    const messages = ['hello', 'I want to feel calm like Zanzibar', 'my chest is tight', 'help', 'I want to kill myself'];
    for (const text of messages) await say(text);
    const text = await metrics.registry.metrics();
    const turns = text.split('\n').filter((l) => l.startsWith('trt_turns_total{'));
    expect(turns.reduce((n, l) => n + Number(l.split(' ')[1]), 0)).toBe(messages.length);
    expect(text).toMatch(/^trt_turns_total\{platform="slack",kind="crisis",substate="[^"]+"\} 1$/m);
    expect(text).toMatch(/^trt_turns_total\{platform="slack",kind="command",substate="[^"]+"\} 1$/m);
    expect(sample(text, 'trt_crisis_referrals_total{platform="slack"}')).toBe(1);
    expect(sample(text, 'trt_sessions_started_total{platform="slack"}')).toBe(1);
    const durations = text.split('\n').filter((l) => l.startsWith('trt_turn_duration_seconds_count{platform="slack"'));
    expect(durations.reduce((n, l) => n + Number(l.split(' ')[1]), 0)).toBe(messages.length);
    // Every label value is a platform, a kind, a substate of the config, or a fixed word.
    const substates = new Set(Object.values(repoConfig().navigation.stages).flatMap((st) => Object.keys(st.substates)));
    const values = [...text.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!] as const);
    for (const [label, value] of values) {
      if (label === 'substate' && value !== 'none') expect(substates.has(value), value).toBe(true);
      expect(value).not.toMatch(/SECRET|Zanzibar|calm|chest|kill/i);
    }
    expect(text).not.toMatch(/SECRET|Zanzibar|kill myself/);
  });

  it('createEngine reports turns to its metrics and counts messages the rate limits leave unanswered, without Redis', async () => {
    const setup = await createEngine(loadSettings({}), silentLogger);
    try {
      await setup.engine.handleTurn({ sessionId: 'console:m1', userId: 'u1', platform: 'console', text: 'hello' });
      const perUser = setup.config.rateLimits.per_user!.points;
      // Two over the limit are dropped; a risk statement over the limit is still answered, so not counted.
      await throughRunner(setup, 'U0LIM', 'T', [...Array.from({ length: perUser + 2 }, (_, i) => `message ${i}`), 'I want to kill myself']);
      const text = await setup.metrics.registry.metrics();
      expect(text).toMatch(/^trt_turns_total\{platform="console",kind="reply",substate="[^"]+"\} 1$/m);
      expect(sample(text, 'trt_rate_limited_total')).toBe(2);
      expect(text).toMatch(/^trt_turns_total\{platform="slack",kind="crisis",substate="[^"]+"\} 1$/m);
      expect(text).not.toMatch(/^trt_queue_depth\{/m); // no Redis queue: no depth values
      expect(text).toContain('process_cpu_user_seconds_total');
    } finally {
      await setup.close();
    }
  });
});
