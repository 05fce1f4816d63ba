/**
 * The key table in docs/redis.md and the key layouts in the code agree. From the code (src/ and
 * adapters/): every template literal that starts with the key prefix (`${this.prefix}:…`,
 * `${prefix}:…`) and every key line of a layout header comment (` *   <p>:…`). From the docs: the
 * `trt:…` keys in the table's first column. Placeholders (`${id}`, `<id>`, `…`) become `*`.
 * Loose on purpose: a code pattern is a glob that must match a documented key, and every
 * documented key must be matched by a code pattern (so `<p>:mark:<key>` covers every mark).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, proseLines, readDoc, slug } from './docs-markdown.js';

/** Prefixed strings that are not keys. */
const NOT_KEYS = new Set(['P:config-subscriber' /* a connection name */]);

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** `{*}` stays a hash tag; every other placeholder is `*`. */
const placeholders = (key: string) => key.replace(/\$\{[^{}]*\}/g, '*').replace(/<[^<>]*>/g, '*').replace(/…/g, '*');

function codeKeys(): Map<string, string> {
  const keys = new Map<string, string>(); // pattern -> where
  for (const file of ['src', 'adapters'].flatMap((d) => tsFiles(join(ROOT, d)))) {
    const text = readFileSync(file, 'utf8');
    const where = relative(ROOT, file);
    for (const m of text.matchAll(/`\$\{(?:this\.|opts\.|this\.keys\.)?prefix\}(:[^`]*)`/g)) keys.set(placeholders(`P${m[1]}`), where);
    for (const m of text.matchAll(/^\s*\*\s+<p>(:\S+)/gm)) keys.set(placeholders(`P${m[1]}`), where);
  }
  for (const k of NOT_KEYS) keys.delete(k);
  return keys;
}

function documentedKeys(): string[] {
  const lines = proseLines(readDoc('docs/redis.md'));
  const start = lines.findIndex((l) => /^##\s/.test(l.text) && slug(l.text.replace(/^#+\s*/, '')).startsWith('keys'));
  expect(start, 'docs/redis.md has a "## Keys" section').toBeGreaterThan(-1);
  const keys: string[] = [];
  for (const { text } of lines.slice(start + 1)) {
    if (/^#{1,2}\s/.test(text)) break;
    if (!text.startsWith('| `')) continue;
    const first = text.split(/(?<!\\)\|/)[1]!;
    for (const m of first.matchAll(/`(trt:[^`]+)`/g)) keys.push(placeholders(m[1]!.replace(/^trt:/, 'P:')));
  }
  return keys;
}

const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

describe('docs/redis.md key table', () => {
  const code = codeKeys();
  const docs = documentedKeys();

  it('finds the key layouts', () => {
    // Session, queue, analytics, overrides, marks, rate limits: a layout moved out of reach fails here.
    expect(code.size).toBeGreaterThan(20);
    expect(docs.length).toBeGreaterThan(20);
    for (const area of ['session', 'queue', 'analytics', 'config', 'mark', 'rl', 'audit', 'active_sessions', 'user']) {
      expect([...code.keys()].some((k) => k.startsWith(`P:${area}`)), `a key under P:${area} in the code`).toBe(true);
    }
  });

  it('every key the code builds is in the table', () => {
    const missing = [...code].filter(([k]) => !docs.some((d) => glob(k).test(d))).map(([k, where]) => `${k} (${where})`);
    expect(missing).toEqual([]);
  });

  it('every key in the table is one the code builds', () => {
    const unknown = docs.filter((d) => ![...code.keys()].some((k) => glob(k).test(d)));
    expect(unknown).toEqual([]);
  });
});
