/**
 * The labelled crisis-detection corpus (data/safety/{train,dev,test}.tsv): its
 * reader and its digest.
 *
 * Format: one `LABEL<TAB>text` per line, labels E (explicit risk), I (indirect
 * risk) and N (must not trigger); `#` starts a comment line; blank lines are
 * skipped. Anything else is an error naming the file and line, because a
 * silently dropped line is a silently untested statement.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadExchanges } from '../config/load.js';
import { normalizeRiskText } from './normalize.js';

/** Corpus labels: E explicit risk, I indirect risk, N must not trigger. */
export type RiskLabel = 'E' | 'I' | 'N';

/** One corpus line. */
export interface LabelledLine {
  label: RiskLabel;
  /** The text as written (not normalised). */
  text: string;
  /** 1-based line number in its file. */
  line: number;
}

/** A corpus file that cannot be read or has a malformed line. */
export class CorpusError extends Error {
  /** @param file the file, as given @param line 1-based line number, if the problem is one line */
  constructor(
    readonly file: string,
    readonly line: number | null,
    problem: string,
  ) {
    super(`${line === null ? file : `${file}:${line}`}: ${problem}`);
    this.name = 'CorpusError';
  }
}

const LABELS: ReadonlySet<string> = new Set(['E', 'I', 'N']);

/** True for the labels the model must flag (E and I). */
export function isRiskLabel(label: RiskLabel): boolean {
  return label !== 'N';
}

/** Parses corpus text (see the file comment); `file` only names the source in errors. */
export function parseLabelledTsv(content: string, file: string): LabelledLine[] {
  const out: LabelledLine[] = [];
  const lines = content.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
    if (raw.trim() === '' || raw.startsWith('#')) continue;
    const tab = raw.indexOf('\t');
    const where = i + 1;
    if (tab < 0) throw new CorpusError(file, where, `expected LABEL<TAB>text, found no tab: ${JSON.stringify(raw.slice(0, 60))}`);
    const label = raw.slice(0, tab);
    const text = raw.slice(tab + 1);
    if (!LABELS.has(label)) throw new CorpusError(file, where, `label must be E, I or N, found ${JSON.stringify(label.slice(0, 20))}`);
    if (text.includes('\t')) throw new CorpusError(file, where, 'more than one tab (the text may not contain one)');
    if (text.trim() === '') throw new CorpusError(file, where, 'empty text');
    out.push({ label: label as RiskLabel, text, line: where });
  }
  return out;
}

/** Reads and parses a corpus file; throws CorpusError naming the file (and line). */
export function readLabelledTsv(file: string): LabelledLine[] {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CorpusError(file, null, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const lines = parseLabelledTsv(content, file);
  if (lines.length === 0) throw new CorpusError(file, null, 'no labelled lines');
  return lines;
}

/** What a corpus digest records. */
export interface CorpusDigest {
  /** Labelled lines. */
  lines: number;
  /** Lines labelled E or I. */
  risk: number;
  /** sha256 (hex) of the lines in order, each as `LABEL<TAB>normalised text<LF>`. */
  sha256: string;
}

/**
 * The digest a model's `trained_on` records and the staleness test recomputes.
 * It hashes the normalised text, not the raw text: a change to the normaliser
 * that changes what the model sees makes the model stale, and an edit the
 * normaliser erases (case, apostrophes) does not. Order counts, because training
 * sums in corpus order.
 */
export function corpusDigest(lines: readonly Pick<LabelledLine, 'label' | 'text'>[]): CorpusDigest {
  const hash = createHash('sha256');
  let risk = 0;
  for (const l of lines) {
    hash.update(`${l.label}\t${normalizeRiskText(l.text)}\n`);
    if (isRiskLabel(l.label)) risk++;
  }
  return { lines: lines.length, risk, sha256: hash.digest('hex') };
}

/**
 * Ordinary conversation as N lines: the client inputs of the conversation corpus
 * (data/state_actions/all_dr_q_exchanges.json under `dataDir`), in corpus order,
 * `line` being the exchange's position. The risk corpus's N lines are near misses
 * ("this traffic is killing me"); without these the model never sees a plain
 * "ready" or "done" as safe, and flags them. Throws ConfigError if the corpus is invalid.
 */
export function conversationNegatives(dataDir: string): LabelledLine[] {
  return loadExchanges(dataDir).map((e, i) => ({ label: 'N', text: e.client_input, line: i + 1 }));
}
