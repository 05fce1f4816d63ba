/**
 * Architecture rules that keep the engine platform-free (shared/style.md):
 * nothing under src/ imports adapters/, a platform SDK or reads process.env,
 * and src/ has no import cycles.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}
const SRC = join(ROOT, 'src');
const sources = files(SRC);
const importsOf = (file: string) => [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);

describe('engine boundary', () => {
  // Backend clients (openai, ioredis) may sit in src/ beside the interface they implement; platform SDKs may not.
  it('src/ never imports adapters/, platform SDKs or process.env', () => {
    const offences: string[] = [];
    for (const f of sources) {
      const text = readFileSync(f, 'utf8');
      for (const spec of importsOf(f)) {
        if (/^(@slack\/|discord\.js)/.test(spec) || resolve(dirname(f), spec).startsWith(join(ROOT, 'adapters'))) {
          offences.push(`${relative(ROOT, f)} imports ${spec}`);
        }
      }
      if (/process\.env/.test(text)) offences.push(`${relative(ROOT, f)} reads process.env`);
    }
    expect(offences).toEqual([]);
  });

  it('src/ has no import cycles', () => {
    const graph = new Map(sources.map((f) => [f, importsOf(f).filter((s) => s.startsWith('.')).map((s) => resolve(dirname(f), s).replace(/\.js$/, '.ts'))]));
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(SRC, p)).join(' -> '));
        return;
      }
      state.set(f, 'visiting');
      for (const dep of graph.get(f) ?? []) visit(dep, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of sources) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('adapters reach the engine only through src/index.ts', () => {
    const offences = files(join(ROOT, 'adapters')).flatMap((f) =>
      importsOf(f)
        .filter((s) => s.includes('/src/') && !s.endsWith('/src/index.js'))
        .map((s) => `${relative(ROOT, f)} imports ${s}`),
    );
    expect(offences).toEqual([]);
  });
});
