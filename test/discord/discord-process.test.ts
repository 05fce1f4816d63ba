/** npm run discord:register and npm start with Discord settings, as real processes against the fake Discord. */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { APP_ID, FakeDiscord, GUILD_ID, message, person } from '../fakes/discord.js';
import { ROOT } from '../helpers.js';
import { until } from '../wait.js';

let fake: FakeDiscord;
let apiUrl: string;
const TOKEN = 'fake.discord.token.for.tests';
beforeAll(async () => {
  fake = new FakeDiscord();
  apiUrl = await fake.start();
});
afterAll(async () => fake.stop());

it('discord:register puts the /trt command with its seven subcommands, globally or for one server', async () => {
  const run = (...args: string[]) => promisify(execFile)(`${ROOT}/node_modules/.bin/tsx`, ['scripts/discord-register.ts', ...args], { cwd: ROOT, env: { ...process.env, DISCORD_BOT_TOKEN: TOKEN, DISCORD_API_URL: apiUrl } });
  await run();
  await run('--guild', GUILD_ID);
  const puts = fake.of('PUT', /\/commands$/);
  expect(puts.map((p) => p.path)).toEqual([`/applications/${APP_ID}/commands`, `/applications/${APP_ID}/guilds/${GUILD_ID}/commands`]);
  const [command] = puts[0]!.body as unknown as Array<{ name: string; options: Array<{ name: string }> }>;
  expect(command!.name).toBe('trt');
  expect(command!.options.map((o) => o.name)).toEqual(['help', 'status', 'summary', 'breathe', 'human', 'reset', 'forget']);
});

it('npm start with DISCORD_BOT_TOKEN connects, answers a DM and exits 0 on SIGTERM', async () => {
  const child = spawn('node', ['--import', 'tsx', 'adapters/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, DISCORD_BOT_TOKEN: TOKEN, DISCORD_API_URL: apiUrl, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  await fake.ready();
  await until(() => stderr.includes('Discord adapter connected'), { timeoutMs: 15_000, what: () => `the connected line:\n${stderr}` });
  fake.dispatch('MESSAGE_CREATE', message({ channel_id: '600000000000000077', content: 'hello Zanzibar', author: person() }));
  await fake.waitFor('POST', /^\/channels\/600000000000000077\/messages$/);
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  child.kill('SIGTERM');
  expect(await exit).toBe(0);
  expect(stderr).not.toContain('Zanzibar');
});
