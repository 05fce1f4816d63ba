/** Progress lines off a terminal (src/util/progress.ts): one per 10% or per interval, and a final one. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { startProgress } from '../../src/util/progress.js';

function capture(): { stream: NodeJS.WriteStream; lines: () => string[] } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return { stream: stream as unknown as NodeJS.WriteStream, lines: () => text.split('\n').filter(Boolean) };
}

describe('startProgress off a terminal', () => {
  it('writes a line at each further 10% and one when stopped', async () => {
    const out = capture();
    const p = startProgress('fitting', 200, { stream: out.stream, lineEverySeconds: 3600 });
    for (let i = 1; i <= 200; i++) p.update(i);
    p.stop();
    await new Promise((r) => setImmediate(r));
    expect(out.lines().map((l) => l.replace(/ [\d.]+ s$/, ''))).toEqual([
      'fitting: 20/200 (10%)', 'fitting: 40/200 (20%)', 'fitting: 60/200 (30%)', 'fitting: 80/200 (40%)', 'fitting: 100/200 (50%)',
      'fitting: 120/200 (60%)', 'fitting: 140/200 (70%)', 'fitting: 160/200 (80%)', 'fitting: 180/200 (90%)', 'fitting: 200/200 (100%)',
    ]);
  });

  it('writes a line when the interval passes between 10% steps, and nothing when disabled', async () => {
    const out = capture();
    const p = startProgress('slow', 1000, { stream: out.stream, lineEverySeconds: 0 });
    p.update(1);
    p.update(2);
    p.stop();
    const quiet = capture();
    const q = startProgress('quiet', 10, { stream: quiet.stream, enabled: false });
    q.update(5);
    q.stop();
    await new Promise((r) => setImmediate(r));
    expect(out.lines().map((l) => l.replace(/ [\d.]+ s$/, ''))).toEqual(['slow: 1/1000 (0%)', 'slow: 2/1000 (0%)', 'slow: 2/1000 (0%)']);
    expect(quiet.lines()).toEqual([]);
  });
});
