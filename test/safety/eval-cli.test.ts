/** `npm run safety:eval` as a real process on small files. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { wilson } from '../../src/safety/eval.js';
import { ROOT, runScript } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'trt-safety-eval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FIXTURE = join(dir, 'small.tsv');
writeFileSync(
  FIXTURE,
  [
    '# a small labelled file',
    'E\tI want to kill myself',
    'E\tim gonna end it all tonight',
    'I\teveryone would be better off without me',
    'I\tthe weather is nice today',
    'N\tthis meeting is killing me',
    'N\tmy shoulders feel tight',
    'N\tI want to die lol',
  ].join('\n'),
);

const cli = (args: string[]) => runScript('safety-eval.ts', args);

describe('npm run safety:eval', () => {
  it('prints recall per label and false alarms with intervals, and every miss and false alarm', async () => {
    const r = await cli([FIXTURE]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('risk grammar + model');
    expect(r.stdout).toMatch(/explicit \(E\) caught: +100\.0% \(2\/2, 95% CI [\d.]+%-100\.0%\)/);
    expect(r.stdout).toMatch(/indirect \(I\) caught: +50\.0% \(1\/2,/);
    expect(r.stdout).toMatch(/false alarms \(N\): +33\.3% \(1\/3,/);
    expect(r.stdout).toMatch(/misses:\n +5\tI\tthe weather is nice today/);
    expect(r.stdout).toMatch(/false alarms:\n +8\tpossible\t[a-z_,]+\tI want to die lol/);
  });

  it('--json gives one report per file; --no-model scores the grammar alone', async () => {
    const r = await cli(['--json', '--no-model', FIXTURE, FIXTURE]);
    expect(r.code, r.stderr).toBe(0);
    const reports = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(reports).toHaveLength(2);
    expect(reports[0]).toMatchObject({ file: FIXTURE, recall: { E: { n: 2, k: 2 }, I: { n: 2, k: 1 } }, falseAlarms: { n: 3, k: 1 } });
    expect(reports[0].misses.map((m: { line: number }) => m.line)).toEqual([5]);
  });

  it('exits 1 on a malformed file (naming file and line) and 2 on bad usage', async () => {
    const bad = join(dir, 'bad.tsv');
    writeFileSync(bad, 'E\tfine\nX\tnot a label\n');
    const r = await cli([bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad}:2`);
    expect((await cli([])).code).toBe(2);
    expect((await cli(['--bogus', FIXTURE])).code).toBe(2);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes: 0 evaluated, 1 unreadable or malformed file or config, 2 usage.');
  });

  it('Wilson intervals', () => {
    expect(wilson(0, 0)).toMatchObject({ rate: 0, low: 0, high: 0 });
    const r = wilson(95, 100);
    expect(r.rate).toBe(0.95);
    expect(r.low).toBeCloseTo(0.8882, 3);
    expect(r.high).toBeCloseTo(0.9785, 3);
  });
});
