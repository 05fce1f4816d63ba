/** The labelled-corpus reader (src/safety/corpus.ts) on real files, and the digest the model's staleness check uses. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CorpusError, corpusDigest, readLabelledTsv } from '../../src/safety/corpus.js';
import { ROOT } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'trt-corpus-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** The CorpusError reading `content` throws. */
function problem(content: string): CorpusError {
  const path = file('bad.tsv', content);
  try {
    readLabelledTsv(path);
  } catch (err) {
    expect(err).toBeInstanceOf(CorpusError);
    return err as CorpusError;
  }
  throw new Error('expected a CorpusError');
}

describe('readLabelledTsv', () => {
  it('reads labels, text and line numbers; skips comments and blank lines; accepts CRLF', () => {
    const path = file('ok.tsv', '# a comment\r\nE\tI want to die\r\n\r\nN\tmy back hurts\nI\tthey would be better off without me\n');
    expect(readLabelledTsv(path)).toEqual([
      { label: 'E', text: 'I want to die', line: 2 },
      { label: 'N', text: 'my back hurts', line: 4 },
      { label: 'I', text: 'they would be better off without me', line: 5 },
    ]);
  });

  it('reads the test fixture', () => {
    const lines = readLabelledTsv(join(ROOT, 'test', 'fixtures', 'safety-mini.tsv'));
    expect(new Set(lines.map((l) => l.label))).toEqual(new Set(['E', 'I', 'N']));
  });

  it.each([
    ['a line without a tab', 'E\tfine\nno tab here\n', 2, /no tab/],
    ['an unknown label', 'X\tsomething\n', 1, /label must be E, I or N, found "X"/],
    ['a lower-case label', 'N\tok\ne\tsomething\n', 2, /label must be E, I or N/],
    ['an empty text', 'N\tok\nN\t   \n', 2, /empty text/],
    ['a second tab', '# c\nE\tone\ttwo\n', 2, /more than one tab/],
  ])('rejects %s, naming the file and line', (_, content, line, message) => {
    const err = problem(content);
    expect(err.line).toBe(line);
    expect(err.message).toMatch(message);
    expect(err.message.startsWith(`${join(dir, 'bad.tsv')}:${line}: `)).toBe(true);
  });

  it('rejects a missing file and a file with no labelled line, naming the file', () => {
    expect(() => readLabelledTsv(join(dir, 'absent.tsv'))).toThrow(/absent\.tsv: cannot read: ENOENT/);
    expect(() => readLabelledTsv(file('empty.tsv', '# only a comment\n'))).toThrow(/empty\.tsv: no labelled lines/);
  });
});

describe('corpusDigest', () => {
  const lines = [
    { label: 'E' as const, text: "I can't go on" },
    { label: 'N' as const, text: 'my shoulders ache' },
  ];

  it('counts lines and risk lines and is a hex sha256', () => {
    const d = corpusDigest(lines);
    expect(d).toMatchObject({ lines: 2, risk: 1 });
    expect(d.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hashes what the model sees: an edit the normaliser erases keeps it, a label, text or order change does not', () => {
    const base = corpusDigest(lines).sha256;
    expect(corpusDigest([{ label: 'E', text: 'I CANT GO ON' }, lines[1]!]).sha256).toBe(base);
    expect(corpusDigest([{ label: 'I', text: "I can't go on" }, lines[1]!]).sha256).not.toBe(base);
    expect(corpusDigest([{ label: 'E', text: "I can't go on now" }, lines[1]!]).sha256).not.toBe(base);
    expect(corpusDigest([lines[1]!, lines[0]!]).sha256).not.toBe(base);
  });
});
