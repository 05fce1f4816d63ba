/**
 * Slack ack latency: the real Bolt app in HTTP mode with the real engine and a
 * fake Slack Web API on loopback. Open loop: signed event requests are sent at a
 * fixed rate whatever happened to earlier ones (as Slack does), each timed until
 * the HTTP response (the ack). The load generator, the bot and the fake share
 * this one process, so the figures include their contention.
 */
import { createSlackApp } from '../../adapters/slack/slack-app.js';
import { MemoryMarks, silentLogger, type Engine } from '../../src/index.js';
import { FakeSlack, eventCallback, sendSigned } from '../../test/fakes/slack.js';
import { percentile } from './synthetic.js';

export async function benchSlackAck(engine: Engine, ratePerSec = 300, seconds = 5) {
  const fake = new FakeSlack();
  const apiUrl = await fake.start();
  const secret = 'bench-secret';
  const runner = createSlackApp({ botToken: 'xoxb-bench', signingSecret: secret, apiUrl, port: 0, allowChannels: true }, { engine, marks: new MemoryMarks(), logger: silentLogger });
  const port = await runner.start();
  const url = `http://127.0.0.1:${port}/slack/events`;
  const requests = ratePerSec * seconds;
  const latencies: number[] = [];
  const inflight: Array<Promise<void>> = [];
  const started = performance.now();
  try {
    for (let i = 0; i < requests; i++) {
      const wait = started + (i * 1000) / ratePerSec - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      // A DM channel per event: messages to one session that arrive during its turn are answered together.
      const event = eventCallback({ type: 'message', channel: `D${i}`, channel_type: 'im', user: `U${i % 256}`, text: i % 2 ? 'I want to feel calm' : 'hello', ts: `1700000000.${String(i).padStart(6, '0')}` });
      inflight.push(
        sendSigned(url, event, secret).then(({ status, ms }) => {
          if (status !== 200) throw new Error(`status ${status}`);
          latencies.push(ms);
        }),
      );
    }
    await Promise.all(inflight);
    await fake.waitFor('chat.postMessage', requests, 30_000); // every event was answered
    return { ratePerSec, requests, p50ms: +percentile(latencies, 0.5).toFixed(2), p99ms: +percentile(latencies, 0.99).toFixed(2) };
  } finally {
    await runner.stop();
    await fake.stop();
  }
}
