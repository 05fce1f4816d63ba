/** `summary` and `breathe` through the terminal chat: piped into `npm start` as a real process, and through runTerminalChat. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runTerminalChat } from '../adapters/terminal/terminal-chat.js';
import { makeEngine, npmStart, repoConfig, ROOT } from './helpers.js';

const happy = JSON.parse(readFileSync(join(ROOT, 'test', 'conversations', 'happy_path.json'), 'utf8')) as { turns: Array<{ say: string; action?: string }> };
/** What the person says up to and including the handover (the end of stage 1). */
const TO_HANDOVER = happy.turns.slice(0, happy.turns.findIndex((t) => t.action === 'handover') + 1).map((t) => t.say);
const RELAXATION = "Here's the short relaxation again.";
const END_OF_STAGE = "That's everything for the first stage.";
/** The lines of the survival-response explanation (the step after the vision's "may I explain?"). */
const EXPLANATIONS = repoConfig().responses.actions.explain_survival_response;

/** Piped output: the disclosure, then one reply per line (none of these replies has a line break). */
function replies(stdout: string): string[] {
  const disclosure = repoConfig().responses.disclosure;
  expect(stdout.startsWith(disclosure)).toBe(true);
  return stdout.slice(disclosure.length).trim().split('\n').filter(Boolean);
}

describe('terminal chat (npm start, piped): summary and breathe', () => {
  it('summary mid-stage and at the end of stage 1, breathe in between, one reply per line', async () => {
    // the happy path to the vision's "may I explain?" | summary, breathe | the rest of it to the handover | summary
    const input = [...TO_HANDOVER.slice(0, 4), 'summary', 'breathe', ...TO_HANDOVER.slice(4), 'summary'];
    const { code, stdout, stderr } = await npmStart(`${input.join('\n')}\n`);
    expect(code, stderr).toBe(0);
    const out = replies(stdout);
    expect(out).toHaveLength(input.length);

    const mid = out[4]!;
    expect(mid).toContain('you want to feel calm and present');
    expect(mid).toContain('work is hectic'); // the problem given at the start, in their words
    expect(mid).toContain('Still open:');
    expect(out[5]!.startsWith(RELAXATION)).toBe(true);
    expect(EXPLANATIONS).toContain(out[6]); // "sure, go ahead" after breathe: the explanation, as without it

    const end = out.at(-1)!;
    for (const s of ['you want to feel calm and present', 'it lives in your chest', 'it starts when an email pings', 'your body felt lighter']) expect(end).toContain(s);
    expect(end).toContain(END_OF_STAGE);
    expect(end).not.toContain('Still open');
  });
});

describe('runTerminalChat: summary and breathe', () => {
  it('answers summary and breathe on the session console:<user>, and the conversation goes on where it was', async () => {
    const { engine, store } = makeEngine();
    const input = new PassThrough();
    const output = new PassThrough();
    let out = '';
    output.on('data', (d) => (out += d));
    const lines = ['summary', 'hello', 'I want to feel calm and present', 'yes', 'breathe', 'summary', 'sure, go ahead'];
    const done = runTerminalChat({ engine, user: 'robin', input, output, interactive: false });
    input.end(`${lines.join('\n')}\n`);
    expect(await done).toBe(lines.length);
    const got = replies(out);
    expect(got).toHaveLength(lines.length);
    expect(got[0]).toContain(repoConfig().responses.summary!.nothing_yet);
    expect(got[4]!.startsWith(RELAXATION)).toBe(true);
    expect(got[5]).toContain('you want to feel calm and present');
    expect(got[5]).toContain('Still open:');
    const history = await store.history('console:robin');
    expect(history.filter((h) => h.role === 'user').map((h) => h.text)).toEqual(lines);
    expect(history.at(-1)!.text).toBe(got[6]);
    expect(EXPLANATIONS).toContain(got[6]); // the explanation of the survival response, as without breathe
  });
});
