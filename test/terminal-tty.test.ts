/**
 * `npm start` in a real terminal (a pseudo-terminal): Ctrl+C, word wrap, an LLM that does not
 * answer, and no log line between the person's lines. And `.env`, read from the project folder.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { repoConfig, ROOT } from './helpers.js';
import { inPty, type Pty } from './pty.js';

const running: Pty[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const p of running.splice(0)) p.child.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'trt-tty-'));
  dirs.push(d);
  return d;
}

/** The bot's own entry point, run from `cwd` (where it looks for .env) with the repository's config and data. */
const TSX = createRequire(join(ROOT, 'package.json')).resolve('tsx');
const START = `${process.execPath} --import ${TSX} ${join(ROOT, 'adapters', 'main.ts')}`;
const REPO_DIRS = { CONFIG_DIR: join(ROOT, 'config'), DATA_DIR: join(ROOT, 'data') };

function startBot(env: Record<string, string> = {}, columns = 100): { pty: Pty; logFile: string; cwd: string } {
  const cwd = tempDir();
  const logFile = join(cwd, 'bot.log');
  const pty = inPty(START, { cwd, env: { ...REPO_DIRS, LOG_FILE: logFile, ...env }, columns });
  running.push(pty);
  return { pty, logFile, cwd };
}

describe('npm start in a terminal', () => {
  it('the first Ctrl+C clears a half-typed line, the second quits with "Goodbye." and exit code 0', async () => {
    const { pty } = startBot();
    let at = await pty.waitFor('you> ');
    pty.type('hello\r');
    at = await pty.waitFor('you> ', { from: await pty.waitFor('guide> ', { from: at }) });
    pty.type('I want to feel angry');
    await pty.waitFor('angry', { from: at });
    pty.type('\x03'); // Ctrl+C: the line is thrown away, the chat goes on
    at = await pty.waitFor('Ctrl+C again', { from: at });
    pty.type('I want to feel calm\r');
    at = await pty.waitFor('you> ', { from: await pty.waitFor('guide> ', { from: at }) });
    pty.type('summary\r');
    const summaryAt = await pty.waitFor('guide> ', { from: at });
    at = await pty.waitFor('you> ', { from: summaryAt });
    const summary = pty.screen().slice(summaryAt, at);
    expect(summary).toContain('calm');
    expect(summary).not.toContain('angry'); // the cleared line never reached the guide
    pty.type('\x03');
    pty.type('\x03');
    expect(await pty.exited).toBe(0);
    expect(pty.screen().slice(at)).toContain('Goodbye.');
  });

  it('Ctrl+D on an empty line quits with "Goodbye." and exit code 0', async () => {
    const { pty } = startBot();
    await pty.waitFor('you> ');
    pty.type('\x04');
    expect(await pty.exited).toBe(0);
    expect(pty.screen()).toContain('Goodbye.');
  });

  it('wraps long replies at word boundaries to the terminal width', async () => {
    const columns = 50;
    const { pty } = startBot({}, columns);
    let at = await pty.waitFor('you> ');
    pty.type('help\r');
    const start = await pty.waitFor('guide> ', { from: at });
    at = await pty.waitFor('you> ', { from: start });
    const shown = pty.screen().slice(start, at - 'you> '.length);
    const lines = shown.split('\n');
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines) expect(l.length).toBeLessThan(columns);
    // Every word of the help text is on the screen whole: nothing was split mid-word.
    const words = new Set(shown.split(/\s+/));
    const help = repoConfig().responses.commands.help.split(/\s+/).filter((w) => w.length > 0 && w.length < columns - 10);
    expect(help.filter((w) => !words.has(w))).toEqual([]);
  });

  it('with an LLM server that does not answer, the banner says so, and no log line lands between the lines', async () => {
    // No LOG_FILE: the chat on a terminal logs to trt-guide-bot.log in the folder it runs in.
    const { pty, cwd } = startBot({ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', LOG_LEVEL: 'debug', LOG_FILE: '' });
    const banner = await pty.waitFor('you> ');
    expect(pty.screen().slice(0, banner)).toContain('responder: llm at http://127.0.0.1:9/v1 unreachable, replies come from the offline responder until it answers');
    expect(pty.screen().slice(0, banner)).toContain('logs: trt-guide-bot.log');
    pty.type('hello\r');
    let at = await pty.waitFor('you> ', { from: await pty.waitFor('guide> ', { from: banner }) });
    pty.type('I want to feel calm\r');
    at = await pty.waitFor('you> ', { from: await pty.waitFor('guide> ', { from: at }) });
    pty.type('\x04');
    expect(await pty.exited).toBe(0);
    expect(pty.screen().slice(banner)).not.toMatch(/"level"|\{"/); // the chat screen holds the chat only
    const log = readFileSync(join(cwd, 'trt-guide-bot.log'), 'utf8');
    expect(log).toContain('"msg":"turn"'); // the log went to its file, at the level asked
    expect(log).toContain('unreachable');
    expect(log).not.toContain('feel calm'); // and without message text
  });
});

describe('.env', () => {
  it('is read from the folder npm start runs in; a variable set in the environment wins; the banner says so', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, '.env'), '# settings for this test\nMAX_MESSAGE_CHARS=120\nRESPONDER=not-a-responder\n');
    const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'adapters', 'main.ts')], { cwd, env: { ...process.env, ...REPO_DIRS, RESPONDER: 'offline' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(`hello\n${'a long message about my week '.repeat(8)}\n`);
    const code = await new Promise((r) => child.on('close', r));
    expect(stderr).toContain('settings: .env (1 set, 1 left to the environment) + environment');
    expect(code).toBe(0); // RESPONDER from the environment, not the file's invalid value
    expect(stdout).toContain('(120 characters at most)'); // MAX_MESSAGE_CHARS from the file
  });

  it('without one, the banner says the settings come from the environment only', async () => {
    const cwd = tempDir();
    const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'adapters', 'main.ts')], { cwd, env: { ...process.env, ...REPO_DIRS }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end('hello\n');
    expect(await new Promise((r) => child.on('close', r))).toBe(0);
    expect(stderr).toContain('settings: environment (no .env)');
  });
});
