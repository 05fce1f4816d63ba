/**
 * `npm run demo:slack`: the real Slack adapter against the fake Slack, driven by piped input.
 * What a newcomer sees: a thread started by a mention, replies in it, a DM, the placeholder
 * and the edits of a streamed reply, one reply per message, and a clean exit.
 */
import { describe, expect, it } from 'vitest';
import { CHANNEL_NOTICE, PLACEHOLDER } from '../../adapters/slack/outlet.js';
import { repoConfig } from '../helpers.js';
import { exchanges, replies, runDemo } from './demo-run.js';

describe('npm run demo:slack', () => {
  it('a mention starts a thread, the next line is a reply in it, ":dm" moves to a DM; one reply each; exit 0', async () => {
    const run = await runDemo('slack', 'hello\nI want to feel calm\n:dm\nhello\n');
    expect(run.code, run.stderr).toBe(0);
    // Without a token, key or network: the URL and key in the environment were not used.
    expect(run.stdout).toContain('responder: offline');
    const [mention, inThread, dm] = exchanges(run.entries);
    const root = /starts thread (\d+\.\d+)/.exec(mention!.sent.who)?.[1];
    expect(mention!.sent.where).toBe('#demo');
    expect(mention!.sent.text).toBe('@guide hello');
    expect(mention!.after.map((e) => e.where)).toEqual([`#demo › thread ${root}`]);
    expect(mention!.after[0]!.who).toBe('guide · new message');
    expect(mention!.after[0]!.text.startsWith(`${CHANNEL_NOTICE}\n\n${repoConfig().responses.disclosure}`)).toBe(true);
    expect(inThread!.sent.where).toBe(`#demo › thread ${root}`);
    expect(inThread!.after.map((e) => e.where)).toEqual([`#demo › thread ${root}`]);
    expect(inThread!.after[0]!.text).toContain('calm');
    expect(dm!.sent.where).toBe('DM with @guide');
    expect(dm!.after.map((e) => e.where)).toEqual(['DM with @guide']);
    expect(dm!.after[0]!.text).toContain(repoConfig().responses.disclosure); // a new conversation
    expect(replies(run)).toHaveLength(3);
  }, 60_000);

  it('with --llm: "One moment…", then edits while the reply is written, then the whole reply, for each message', async () => {
    const run = await runDemo('slack', 'hello\nI want to feel calm\n', ['--llm'], 55_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('responder: LLM (a local fake model, streamed)');
    const turns = exchanges(run.entries);
    expect(turns).toHaveLength(2);
    for (const { after } of turns) {
      expect(after[0]!.who).toBe('guide · new message (placeholder)');
      expect(after[0]!.text).toBe(PLACEHOLDER);
      const writing = after.filter((e) => e.who === 'guide · ✎ edited (still writing)');
      expect(writing.length).toBeGreaterThanOrEqual(1);
      expect(writing.every((e) => e.text.endsWith(' …'))).toBe(true);
      const final = after.at(-1)!;
      expect(final.who).toBe('guide · ✎ edited');
      expect(final.text).toContain('Thank you for telling me.');
      expect(final.notes.some((n) => n.startsWith('✓ replied'))).toBe(true);
      expect(new Set(after.map((e) => e.where)).size).toBe(1); // all in the one thread
    }
    expect(replies(run)).toHaveLength(2);
  }, 60_000);

  it('--help lists the demo commands and exit codes (0); an unknown option exits 2', async () => {
    const help = await runDemo('slack', '', ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--llm');
    expect(help.stdout).toContain(':thread');
    expect(help.stdout).toMatch(/Exit codes: 0 .*1 unexpected error, 2 invalid options/s);
    const wrong = await runDemo('slack', '', ['--no-such-option']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("unknown option '--no-such-option'");
  }, 60_000);
});
