/**
 * The demos import test fakes; product code must never reach them: nothing under src/ or
 * adapters/ imports scripts/ (the demos among them) or test/ (the fakes).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}
/** Static imports (bare ones too), re-exports and dynamic import() calls, by specifier. */
const importsOf = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/(?:^\s*(?:import|export)[^'"]*from\s+|^\s*import\s+|\bimport\(\s*)['"]([^'"]+)['"]/gm)].map((m) => m[1]!);

it('src/ and adapters/ never import scripts/ or test/ (the demos and the fakes they use)', () => {
  const offences: string[] = [];
  for (const f of [...files(join(ROOT, 'src')), ...files(join(ROOT, 'adapters'))]) {
    for (const spec of importsOf(f)) {
      const target = resolve(dirname(f), spec);
      if (spec.startsWith('.') && (target.startsWith(join(ROOT, 'scripts')) || target.startsWith(join(ROOT, 'test')))) offences.push(`${relative(ROOT, f)} imports ${spec}`);
    }
  }
  expect(offences).toEqual([]);
  // The rule is checked against the real demo files (a moved folder would make it vacuous).
  expect(files(join(ROOT, 'scripts', 'demo')).map((f) => relative(ROOT, f))).toContain('scripts/demo/slack.ts');
});
