/** The start-up probe of the LLM server, and what a turn does while the server is down. */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { LlmReachability } from '../../src/responder/llm/reachability.js';
import { repoConfig } from '../helpers.js';
import { until } from '../wait.js';
import { llmEngine, plainModel, useFakeOpenAi } from './llm-helpers.js';

const { fake, url } = useFakeOpenAi();
const CLOSED = 'http://127.0.0.1:9/v1'; // the discard port: nothing listens there

function reach(baseURL: string, now = () => Date.now()) {
  return new LlmReachability(new OpenAI({ apiKey: 'k', baseURL }), { timeoutMs: 1000, reprobeMs: 30_000, now });
}

describe('LLM reachability', () => {
  it('a server that answers the models call is ok; one that refuses the key is "rejected"; nothing listening is "unreachable"', async () => {
    expect(await reach(url()).probe()).toEqual({ state: 'ok' });
    fake.modelsStatus = 401;
    try {
      expect(await reach(url()).probe()).toEqual({ state: 'rejected', status: 401 });
    } finally {
      fake.modelsStatus = 200;
    }
    expect((await reach(CLOSED).probe()).state).toBe('unreachable');
  });

  it('a server without a models route (404) is there: ok', async () => {
    expect(await reach(url().replace(/\/v1$/, '/v1/no-models-here')).probe()).toEqual({ state: 'ok' });
  });

  it('the banner name says the truth, without a password written into the URL', async () => {
    const { responder } = await llmEngine({ baseURL: 'http://user:secret@127.0.0.1:9/v1' });
    expect(responder.name).toMatch(/^llm \(/); // not probed yet: assumed to answer, as before
    await responder.probe();
    expect(responder.name).toBe('llm at http://127.0.0.1:9/v1 unreachable, replies come from the offline responder until it answers');
  });

  it('while the server is down a turn gets the offline line at once, without a request; a later probe brings the model back', async () => {
    let now = 1_000_000;
    const { engine, responder, events } = await llmEngine({ baseURL: url() });
    // The same responder, with a clock the test moves: its reachability is replaced by one on that clock.
    const r = reach(url(), () => now);
    (responder as unknown as { o: { reachability: LlmReachability } }).o.reachability = r;
    fake.modelsStatus = 401;
    await responder.probe();
    expect(r.state.state).toBe('rejected');
    const before = fake.chatRequests.length;
    const turn = (text: string) => engine.handleTurn({ sessionId: 'console:reach', userId: 'reach', platform: 'console', text });
    const first = await turn('hello');
    expect(first.reply).toContain(repoConfig().responses.disclosure);
    expect(fake.chatRequests.length).toBe(before); // not tried
    expect(events.at(-1)).toMatchObject({ outcome: 'fallback', reason: 'unreachable' });
    // The server comes back; within the re-probe interval nothing is asked, after it one probe is.
    fake.modelsStatus = 200;
    const calls = fake.modelsCalls;
    await turn('I want to feel calm');
    expect(fake.modelsCalls).toBe(calls);
    now += 30_000;
    fake.chatHandler = plainModel('From the model: say more about calm.');
    try {
      await turn('calm, like a lake'); // still offline (the probe runs beside it), and it starts the probe
      await until(() => r.state.state === 'ok', { timeoutMs: 5000, what: 'the background probe to find the server' });
      expect(fake.modelsCalls).toBe(calls + 1);
      const back = await turn('yes');
      expect(back.reply).toBe('From the model: say more about calm.');
    } finally {
      fake.chatHandler = undefined;
      fake.modelsStatus = 200;
    }
  });
});
