/** The Redis store reached through Redis Sentinel: a master and a sentinel the test starts itself. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, createRedisStore, loadSettings, type RedisSessionStore } from '../../src/index.js';
import { chat, repoConfig, repoRetriever } from '../helpers.js';
import { RedisServer, freePort } from './helpers.js';
import { until } from '../wait.js';
import { answered } from '../turn-results.js';

let master: RedisServer;
let sentinel: ChildProcess;
let sentinelPort: number;
beforeAll(async () => {
  master = await RedisServer.start();
  sentinelPort = await freePort();
  const conf = join(master.dir, 'sentinel.conf');
  writeFileSync(conf, `port ${sentinelPort}\nbind 127.0.0.1\nsentinel monitor trtmaster 127.0.0.1 ${master.port} 1\nsentinel down-after-milliseconds trtmaster 2000\n`);
  sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  const knowsMaster = () => (spawnSync('redis-cli', ['-p', String(sentinelPort), 'sentinel', 'get-master-addr-by-name', 'trtmaster'], { encoding: 'utf8' }).stdout ?? '').includes(String(master.port));
  await until(knowsMaster, { timeoutMs: 10_000, everyMs: 100, what: 'the sentinel to know the master' });
}, 20_000);
afterAll(async () => {
  sentinel?.kill('SIGKILL');
  await master.destroy();
});

describe('Redis Sentinel', () => {
  it('REDIS_SENTINELS + REDIS_SENTINEL_NAME find the master and hold a conversation', async () => {
    const settings = loadSettings({ REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`, REDIS_SENTINEL_NAME: 'trtmaster', REDIS_KEY_PREFIX: 'sent' });
    const store: RedisSessionStore = await createRedisStore(settings);
    try {
      expect(store.name).toContain('Sentinel trtmaster');
      const say = chat(new Engine({ config: repoConfig(), store, retriever: repoRetriever() }), 'console:sentinel');
      await say('hello');
      expect(answered(await say('I want to feel calm')).action).toBe('present_vision');
      const keys = spawnSync('redis-cli', ['-p', String(master.port), '--scan', '--pattern', 'sent:*'], { encoding: 'utf8' }).stdout.trim().split('\n');
      expect(keys).toContain('sent:session:{console:sentinel}:state');
    } finally {
      await store.close();
    }
  });
});
