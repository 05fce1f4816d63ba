/** The terminal chat's text handling: word wrap (whole and streamed) and piped lines. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pipedLines } from '../../adapters/terminal/piped-lines.js';
import { runTerminalChat } from '../../adapters/terminal/terminal-chat.js';
import { WordWrap } from '../../adapters/terminal/word-wrap.js';
import { makeEngine } from '../helpers.js';

function wrapped(chunks: string[], width: number): string {
  let out = '';
  const w = new WordWrap((t) => (out += t), width);
  for (const c of chunks) w.write(c);
  w.end();
  return out;
}

const TEXT = 'Notice where in your body the feeling lives right now. Is it in your chest, your stomach, your throat?\n\nTake your time.';

describe('WordWrap', () => {
  it('breaks at spaces, never inside a word, and keeps the text otherwise as it was', () => {
    const out = wrapped([TEXT], 24);
    for (const line of out.split('\n')) expect(line.length).toBeLessThanOrEqual(24);
    expect(out.replace(/\s+/g, ' ')).toBe(TEXT.replace(/\s+/g, ' '));
    expect(out.split(/\s+/)).toEqual(TEXT.split(/\s+/));
    expect(out).toContain('\n\nTake your time.'); // the reply's own blank line stays
  });

  it('wraps a reply streamed in pieces exactly as the whole reply', () => {
    const pieces: string[] = [];
    for (let i = 0; i < TEXT.length; i += 7) pieces.push(TEXT.slice(i, i + 7));
    expect(wrapped(pieces, 30)).toBe(wrapped([TEXT], 30));
  });

  it('cuts a word longer than a line at the edge (a URL has no boundary to wrap at)', () => {
    const url = 'https://findahelpline.com/countries/gb/topics/suicidal-thoughts';
    const out = wrapped([`see ${url} now`], 20);
    for (const line of out.split('\n')) expect(line.length).toBeLessThanOrEqual(20);
    expect(out.replace(/\n/g, '')).toContain(url);
  });

  it('counts the prefix already on the line', () => {
    const out = wrapped(['guide> ', 'one two three four five six'], 16);
    expect(out.split('\n')[0]).toBe('guide> one two');
  });
});

describe('piped lines', () => {
  async function linesOf(...chunks: string[]): Promise<string[]> {
    const input = new PassThrough();
    for (const c of chunks) input.write(c);
    input.end();
    const lines: string[] = [];
    for await (const l of pipedLines(input)) lines.push(l);
    return lines;
  }

  it('break at \\n and \\r\\n only: a bare \\r stays inside its message', async () => {
    expect(await linesOf('one\r\ntwo\nthree\rstill three\n')).toEqual(['one', 'two', 'three\rstill three']);
  });

  it('keep a multi-byte character split across chunks, and a last line without a newline', async () => {
    const bytes = Buffer.from('café\nnaïve');
    const input = new PassThrough();
    input.write(bytes.subarray(0, 4));
    input.write(bytes.subarray(4));
    input.end();
    const lines: string[] = [];
    for await (const l of pipedLines(input)) lines.push(l);
    expect(lines).toEqual(['café', 'naïve']);
  });

  it('through the chat: a bare \\r is one message (read as a space), not two', async () => {
    const { engine, store } = makeEngine();
    const input = new PassThrough();
    const output = new PassThrough();
    output.resume();
    const done = runTerminalChat({ engine, user: 'cr', input, output, interactive: false });
    input.end('hello\nI want to feel calm\rand safe\n');
    expect(await done).toBe(2);
    const said = (await store.history('console:cr', 10)).filter((h) => h.role === 'user').map((h) => h.text);
    expect(said).toEqual(['hello', 'I want to feel calm and safe']);
  });
});
