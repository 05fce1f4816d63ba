/** Redis going away mid-conversation: an honest reply within seconds, no crash, nothing committed lost. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, RedisSessionStore, createRedisClient, connectRedis } from '../../src/index.js';
import { chat, repoConfig, repoRetriever } from '../helpers.js';
import { RedisServer } from './helpers.js';
import { until } from '../wait.js';
import { answered } from '../turn-results.js';

let server: RedisServer;
beforeAll(async () => {
  server = await RedisServer.start(['--appendonly', 'yes', '--appendfsync', 'always']);
});
afterAll(async () => server.destroy());

describe('Redis restart with AOF, mid-conversation', () => {
  it('answers "try again" while Redis is down, then carries on with nothing lost', async () => {
    const redis = createRedisClient({ url: server.url, commandTimeoutMs: 1000 });
    redis.on('error', () => undefined);
    await connectRedis(redis);
    const store = new RedisSessionStore({ client: redis, prefix: 'faults' });
    const engine = new Engine({ config: repoConfig(), store, retriever: repoRetriever() });
    const say = chat(engine, 'console:restart');
    await say('hello');
    expect(answered(await say('I want to feel calm')).action).toBe('present_vision');

    await server.kill();
    const started = Date.now();
    const down = await say('yes');
    expect(down.kind).toBe('unavailable');
    expect(down.reply).toContain('try again in a moment');
    expect(Date.now() - started).toBeLessThan(5000);

    await server.start(); // same folder: the AOF brings the data back
    // Asked again until the client has reconnected (each "try again" commits nothing).
    const back = await until(async () => {
      const r = await say('yes');
      return r.kind !== 'unavailable' && r;
    }, { timeoutMs: 20_000, everyMs: 100, what: 'an answer once Redis is back' });
    expect(back.kind).toBe('reply');
    expect(answered(back).action).toBe('ask_permission'); // the vision step committed before the outage is still there
    const history = await store.history('console:restart');
    expect(history.filter((h) => h.role === 'user').map((h) => h.text)).toEqual(['hello', 'I want to feel calm', 'yes']);
    await store.close();
  });
});
