import { mkdtempSync, cpSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runTerminalChat } from '../adapters/terminal/terminal-chat.js';
import { makeEngine, npmStart, repoConfig, ROOT } from './helpers.js';


describe('terminal chat (npm start, piped)', () => {
  it('answers one reply per line on stdout, prints the backends on stderr and exits at end of input', async () => {
    const { code, stdout, stderr } = await npmStart('hello\nI want to feel calm\n\nyes\n');
    expect(code).toBe(0);
    expect(stderr).toContain('store: memory');
    expect(stderr).toContain('responder: offline');
    const disclosure = repoConfig().responses.disclosure;
    expect(stdout.startsWith(disclosure)).toBe(true);
    const replies = stdout.slice(disclosure.length).trim().split('\n').filter(Boolean);
    expect(replies).toHaveLength(3); // the blank line gets no reply
    expect(replies[1]).toContain('calm');
    expect(stdout).not.toContain('"level"'); // no log lines on stdout
  });

  it('keeps message text out of the logs even at debug level', async () => {
    const { code, stderr } = await npmStart('my secret worry about Zanzibar\nI want to feel calm\n', { LOG_LEVEL: 'debug' });
    expect(code).toBe(0);
    expect(stderr).toContain('"msg":"turn"');
    expect(stderr).not.toContain('Zanzibar');
    expect(stderr).not.toContain('feel calm');
  });

  it('exits 3 and names the file and path when config is malformed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trt-term-'));
    try {
      cpSync(join(ROOT, 'config'), join(dir, 'config'), { recursive: true });
      writeFileSync(join(dir, 'config/system/core_system/simplified_navigation.json'), '{"version": 1}');
      const { code, stderr } = await npmStart('hello\n', { CONFIG_DIR: join(dir, 'config') });
      expect(code).toBe(3);
      expect(stderr).toMatch(/simplified_navigation\.json: \$\.version: /);
      expect(stderr).toMatch(/simplified_navigation\.json: \$\.stages: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 with one line per invalid setting', async () => {
    const { code, stderr } = await npmStart('', { MAX_MESSAGE_CHARS: 'many' });
    expect(code).toBe(2);
    expect(stderr).toContain('MAX_MESSAGE_CHARS');
  });
});

describe('runTerminalChat', () => {
  it('uses the session console:<user> and answers lines in order', async () => {
    const { engine, store } = makeEngine();
    const input = new PassThrough();
    const output = new PassThrough();
    let out = '';
    output.on('data', (d) => (out += d));
    const done = runTerminalChat({ engine, user: 'sam', input, output, interactive: false });
    input.end('hi\nI want to feel calm\n');
    expect(await done).toBe(2);
    expect((await store.history('console:sam')).filter((h) => h.role === 'user').map((h) => h.text)).toEqual(['hi', 'I want to feel calm']);
    expect(out).toContain('calm');
  });
});
