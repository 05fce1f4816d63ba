/**
 * Logs never carry what people write: a whole scripted conversation through
 * `npm start` at debug level, its logs searched for every message and for the
 * replies' words. LOG_MESSAGE_TEXT=true is the one way to put them there, and it
 * says so loudly at start-up.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, npmStart } from './helpers.js';

const script = JSON.parse(readFileSync(join(ROOT, 'test/conversations/happy_path.json'), 'utf8')) as { turns: Array<{ say: string }> };
const messages = [...script.turns.map((t) => t.say), 'my neighbour Zanzibar keeps me up', 'I want to kill myself'];
/** Texts long enough not to occur in a log line by chance ("done" could be a word in a message field). */
const distinctive = messages.filter((m) => m.length >= 8);

describe('logs', { timeout: 60_000 }, () => {
  it('a full scripted conversation at debug level: none of its messages or replies appear in the logs', async () => {
    const { code, stdout, stderr } = await npmStart(`${messages.join('\n')}\n`, { LOG_LEVEL: 'debug' });
    expect(code).toBe(0);
    expect(stderr.match(/"msg":"turn"/g)?.length).toBe(messages.length); // one structured line per turn, with its session id
    expect(stderr).toContain('"sessionId":"console:');
    for (const m of distinctive) expect(stderr, m).not.toContain(m);
    // Nor the replies: words only the replies carry.
    expect(stdout).toContain("Here's what you've found"); // the end of stage 1 sums up in the person's words
    expect(stderr).not.toContain("Here's what you've found");
    expect(stderr).not.toContain('it lives in your chest');
    // The crisis lines by their words (a bare "988" can turn up inside a log line's timestamp).
    expect(stderr).not.toContain('Suicide & Crisis Lifeline');
    expect(stderr).not.toContain('findahelpline');
    expect(stderr.replace(/"(time|pid|hostname)":("[^"]*"|\d+)/g, '')).not.toMatch(/\b988\b/);
  });

  it('LOG_MESSAGE_TEXT=true puts the texts into the debug lines, and warns at start-up', async () => {
    const { code, stderr } = await npmStart('my neighbour Zanzibar keeps me up\n', { LOG_LEVEL: 'debug', LOG_MESSAGE_TEXT: 'true' });
    expect(code).toBe(0);
    expect(stderr).toMatch(/"level":40[^\n]*LOG_MESSAGE_TEXT=true/);
    expect(stderr).toContain('Zanzibar');
  });
});
