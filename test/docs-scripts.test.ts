/**
 * The commands the docs name exist: every `npm run <script>` in README.md and docs/*.md is a
 * script in package.json, and every `--flag` written after `npm run <script> --` (or
 * `npm start --`) is declared in that script's entry file (commander's option strings).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, markdownFiles, readDoc } from './docs-markdown.js';

const scripts: Record<string, string> = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts;
/** Every CLI has these (commander). */
const ALWAYS = new Set(['--help']);

/** `npm run x -- args` and `npm start -- args` in the docs: the script, and the flags on that line (comments dropped). */
function invocations(): { file: string; script: string; flags: string[] }[] {
  const out: { file: string; script: string; flags: string[] }[] = [];
  for (const file of markdownFiles()) {
    for (const line of readDoc(file).split('\n')) {
      for (const m of line.matchAll(/npm (?:run ([\w:.-]+)|(start|test))\b((?: --(?=\s)[^`|#)]*)?)/g)) {
        const args = m[3] ?? '';
        out.push({ file, script: m[1] ?? m[2]!, flags: [...args.matchAll(/(?<![\w-])--[a-z][\w-]*/g)].map((f) => f[0]) });
      }
    }
  }
  return out;
}

/** The file a script runs (`tsx scripts/x.ts`, `node --import tsx scripts/bench/main.ts`, `bash scripts/x.sh`). */
function entryOf(script: string): string | undefined {
  const paths = scripts[script]?.match(/(?:scripts|adapters)\/[\w/.-]+\.(?:ts|mjs|sh)/g);
  return paths?.at(-1);
}

describe('commands named in the docs', () => {
  const found = invocations();

  it('every npm run script exists in package.json', () => {
    expect(found.length).toBeGreaterThan(50);
    const missing = [...new Set(found.filter((f) => !(f.script in scripts)).map((f) => `${f.file}: npm run ${f.script}`))];
    expect(missing).toEqual([]);
  });

  it('every flag after `npm run <script> --` is one the script declares', () => {
    const unknown = new Set<string>();
    const npm = (script: string) => (script === 'start' || script === 'test' ? `npm ${script}` : `npm run ${script}`);
    let checked = 0;
    for (const { file, script, flags } of found) {
      const entry = entryOf(script);
      if (!entry || !flags.length) continue;
      expect(existsSync(join(ROOT, entry)), `${script} runs ${entry}`).toBe(true);
      const source = readFileSync(join(ROOT, entry), 'utf8');
      for (const flag of flags) {
        checked++;
        if (!ALWAYS.has(flag) && !new RegExp(`${flag}(?![\\w-])`).test(source)) unknown.add(`${file}: ${npm(script)} -- ${flag} (not in ${entry})`);
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect([...unknown]).toEqual([]);
  });
});
