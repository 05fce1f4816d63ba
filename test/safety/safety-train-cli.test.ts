/** `npm run safety:train` as a real process (node --import tsx scripts/safety-train.ts) on real files. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conversationNegatives, readLabelledTsv } from '../../src/safety/corpus.js';
import { trainRiskModel } from '../../src/safety/model/train.js';
import { CONFIG_DIR, DATA_DIR, ROOT, runScript } from '../helpers.js';
import { loadEngineConfig } from '../../src/config/load.js';
import { CrisisCheck } from '../../src/safety/crisis-check.js';
import { grammarDigest } from '../../src/safety/grammar/digest.js';

const FIXTURE = join(ROOT, 'test', 'fixtures', 'safety-mini.tsv');
const dir = mkdtempSync(join(tmpdir(), 'trt-safety-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[]) => runScript('safety-train.ts', args);

describe('npm run safety:train', () => {
  it('--help documents the options and exit codes, and exits 0', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const s of ['--train <files...>', '--dev <files...>', '--out <file>', '--no-grammar', 'Exit codes: 0']) expect(r.stdout).toContain(s);
  });

  it('trains (with the conversation corpus as N lines), prints the dev figures, and a second run leaves the file byte-identical', async () => {
    const out = join(dir, 'model.json');
    const first = await cli(['--train', FIXTURE, '--dev', FIXTURE, '--out', out, '--no-grammar']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^dev \(\d+ lines, \d+ risk\): AUC 1\.0000\n {2}high {2}threshold [\d.]+: recall/);
    expect(first.stderr).toContain(`wrote ${out}`);
    expect(first.stderr).toMatch(/conversation: \d+ client inputs as N lines/);
    expect(first.stderr).toMatch(/fitting \(L-BFGS iterations\): \d+\/\d+/); // progress lines off a terminal
    const bytes = readFileSync(out, 'utf8');
    // Another process, same bytes; and the same as the library call.
    const second = await cli(['--train', FIXTURE, '--dev', FIXTURE, '--out', out, '--no-progress', '--no-grammar']);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('unchanged');
    expect(second.stderr).not.toMatch(/fitting \(/);
    expect(readFileSync(out, 'utf8')).toBe(bytes);
    expect(bytes).toBe(trainRiskModel(readLabelledTsv(FIXTURE), readLabelledTsv(FIXTURE), { background: conversationNegatives(DATA_DIR) }).json);
  });

  it('--no-conversation trains on --train alone', async () => {
    const out = join(dir, 'alone.json');
    const r = await cli(['--train', FIXTURE, '--dev', FIXTURE, '--out', out, '--no-conversation', '--no-progress', '--no-grammar']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('conversation:');
    expect(readFileSync(out, 'utf8')).toBe(trainRiskModel(readLabelledTsv(FIXTURE), readLabelledTsv(FIXTURE)).json);
  });

  it('counts the risk grammar\'s dev flags in the low threshold\'s budget, and records the grammar', async () => {
    const out = join(dir, 'with-grammar.json');
    const r = await cli(['--train', FIXTURE, '--dev', FIXTURE, '--out', out, '--no-progress']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/grammar: flags \d+ dev lines/);
    const config = loadEngineConfig(CONFIG_DIR);
    const check = new CrisisCheck(config.safety, config.riskGrammar);
    const lines = readLabelledTsv(FIXTURE);
    const flagged = lines.map((l) => Boolean(check.assess(l.text).risk || check.assess(l.text).possible));
    const expected = trainRiskModel(lines, lines, { background: conversationNegatives(DATA_DIR), devAlreadyFlagged: flagged, grammarDigest: grammarDigest(config.riskGrammar) });
    expect(readFileSync(out, 'utf8')).toBe(expected.json);
    expect(JSON.parse(expected.json).trained_on.grammar).toBe(grammarDigest(config.riskGrammar));
  });

  it('reads several files per split', async () => {
    const [a, b] = [join(dir, 'a.tsv'), join(dir, 'b.tsv')];
    const lines = readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    writeFileSync(a, lines.slice(0, Math.ceil(lines.length / 2)).join('\n'));
    writeFileSync(b, lines.slice(Math.ceil(lines.length / 2)).join('\n'));
    const out = join(dir, 'split.json');
    const r = await cli(['--train', a, b, '--dev', FIXTURE, '--out', out, '--no-progress', '--no-grammar', '--no-conversation']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`from ${a} + ${b}`);
  });

  it('exits 2 on a malformed line, naming the file and line, and writes nothing', async () => {
    const bad = join(dir, 'bad.tsv');
    writeFileSync(bad, 'E\tI want to die\nN my back hurts\n');
    const out = join(dir, 'never.json');
    const r = await cli(['--train', bad, '--dev', FIXTURE, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:2: expected LABEL<TAB>text, found no tab`);
    expect(() => readFileSync(out)).toThrow();
  });

  it('exits 2 on a missing file, a split with one class, and an unknown option', async () => {
    expect((await cli(['--train', join(dir, 'absent.tsv'), '--dev', FIXTURE])).stderr).toMatch(/absent\.tsv: cannot read: ENOENT/);
    const oneClass = join(dir, 'one-class.tsv');
    writeFileSync(oneClass, 'N\tfine\nN\talso fine\n');
    const r = await cli(['--train', FIXTURE, '--dev', oneClass, '--out', join(dir, 'x.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs both risk \(E\/I\) and N lines/);
    expect((await cli(['--bogus'])).code).toBe(2);
  });
});
