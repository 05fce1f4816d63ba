/**
 * `npm run demo:discord`: the real Discord adapter against the fake Discord, driven by piped
 * input. What a newcomer sees: a DM, "typing…", the reply (posted, then edited while a model
 * writes it with --llm), one reply per message, and a clean exit.
 */
import { describe, expect, it } from 'vitest';
import { repoConfig } from '../helpers.js';
import { exchanges, replies, runDemo } from './demo-run.js';

describe('npm run demo:discord', () => {
  it('each line is a DM; "typing…" then one reply per message; exit 0 at end of input', async () => {
    const run = await runDemo('discord', 'hello\nI want to feel calm\n');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('responder: offline'); // the key and URL in the environment were not used
    const turns = exchanges(run.entries);
    expect(turns).toHaveLength(2);
    for (const { sent, after } of turns) {
      expect(sent.where).toBe('DM with Guide');
      expect(after.map((e) => [e.where, e.who])).toEqual([['DM with Guide', 'Guide · new message']]);
    }
    // "typing" is sent as the turn starts, the reply a few ms later on another route: a loaded
    // machine may deliver the two out of order (the late "typing" is then not shown), not twice.
    expect(turns.some((t) => t.sent.notes.includes('Guide is typing…'))).toBe(true);
    expect(turns[0]!.after[0]!.text).toContain(repoConfig().responses.disclosure);
    expect(turns[1]!.after[0]!.text).toContain('calm');
    expect(replies(run)).toHaveLength(2);
  }, 60_000);

  it('with --llm: the reply is posted while being written and edited in place until it is whole', async () => {
    const run = await runDemo('discord', 'hello\nI want to feel calm\n', ['--llm'], 55_000);
    expect(run.code, run.stderr).toBe(0);
    const turns = exchanges(run.entries);
    expect(turns).toHaveLength(2);
    for (const { after } of turns) {
      expect(after[0]!.who).toBe('Guide · new message (still writing)');
      expect(after[0]!.text.endsWith(' …')).toBe(true);
      const final = after.at(-1)!;
      expect(final.who).toBe('Guide · ✎ edited');
      expect(final.text).toContain('Thank you for telling me.');
      expect(final.notes.some((n) => n.startsWith('✓ replied'))).toBe(true);
    }
    expect(replies(run)).toHaveLength(2);
  }, 60_000);

  it('--help lists the exit codes (0); ":quit" ends before the lines after it (0)', async () => {
    const help = await runDemo('discord', '', ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--llm');
    expect(help.stdout).toMatch(/Exit codes: 0 .*3 invalid config/s);
    const quit = await runDemo('discord', 'hello\n:quit\nnever sent\n');
    expect(quit.code).toBe(0);
    expect(exchanges(quit.entries).map((t) => t.sent.text)).toEqual(['hello']);
  }, 60_000);
});
