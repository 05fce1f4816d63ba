/**
 * Why the gateway guard exists: a payload discord.js throws on, in a process with no guard,
 * is an unhandled rejection (@discordjs/ws calls its message handler as `void onMessage()`)
 * and Node ends the process. With the guard the same payload is one dropped event.
 */
import { spawn } from 'node:child_process';
import { afterEach, expect, it } from 'vitest';
import { FakeDiscord, message, person } from '../fakes/discord.js';
import { ROOT } from '../helpers.js';
import { waitUntil } from './edge-harness.js';

let fake: FakeDiscord | undefined;
afterEach(async () => fake?.stop());

async function run(guard: boolean) {
  fake = new FakeDiscord();
  const apiUrl = await fake.start();
  const child = spawn('node', ['--import', 'tsx', 'test/discord/fixtures/bare-client.ts'], { cwd: ROOT, env: { ...process.env, DISCORD_API_URL: apiUrl, GUARD: guard ? '1' : '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  let code: number | null | undefined;
  child.on('exit', (c) => (code = c));
  await waitUntil(`ready:\n${out}`, () => out.includes('ready') || code !== undefined, 20_000);
  fake.dispatch('MESSAGE_CREATE', { ...message({ channel_id: '600000000000000001', content: 'hi', author: person() }), author: null });
  // A good message after it: the guarded process still receives it.
  fake.dispatch('MESSAGE_CREATE', message({ channel_id: '600000000000000001', content: 'hi', author: person() }));
  // Unguarded, the good message may still arrive (the rejection is reported once the microtasks drain): wait for the exit.
  await waitUntil(`an exit or the next message:\n${out}`, () => code !== undefined || (guard && out.includes('message')), 20_000);
  const codeThen = code;
  if (code === undefined) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  return { code: codeThen, out };
}

it('without the guard, MESSAGE_CREATE with author: null ends the process (unhandled rejection)', async () => {
  const { code, out } = await run(false);
  expect(code).not.toBe(0);
  expect(code).not.toBeUndefined();
  expect(out).toContain("TypeError: Cannot read properties of null (reading 'id')");
  expect(out).toContain('at MessageCreateAction.handle');
});

it('with the guard, the same payload is dropped and the next message arrives', async () => {
  const { code, out } = await run(true);
  expect(code).toBeUndefined(); // still running until SIGTERM
  expect(out).toContain('message');
  expect(out).not.toContain('TypeError');
});
