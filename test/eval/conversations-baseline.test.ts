/**
 * The persona evaluation against its committed baseline (eval/baseline.json): a change that
 * makes any total worse (fewer personas reaching the end of stage 1, fewer cooperative ones
 * within 1.3x the minimum turns, more repeats, re-asks, slot errors or fragments) fails here.
 * When a change makes the figures better, `npm run eval:conversations -- --write-baseline`
 * records them (and the docs' table is updated from the same run).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPersona, totals, worseThan, type EvalTotals } from '../../src/eval/conversations.js';
import { evalDeps } from '../../src/eval/engine.js';
import { loadPersonas } from '../../src/eval/personas.js';
import { ROOT } from '../helpers.js';

describe('conversation evaluation (npm run eval:conversations)', () => {
  it('has at least 20 personas of 12-25 messages, 8 of them cooperative', () => {
    const personas = loadPersonas(join(ROOT, 'eval', 'personas'));
    expect(personas.length).toBeGreaterThanOrEqual(20);
    expect(personas.filter((p) => p.cooperative).length).toBeGreaterThanOrEqual(8);
  });

  it('no total is worse than the committed baseline, and the run is deterministic', async () => {
    const deps = evalDeps(ROOT);
    const personas = loadPersonas(join(ROOT, 'eval', 'personas'));
    const run = async () => totals(await Promise.all(personas.map((p) => runPersona(deps, p))));
    const first = await run();
    const baseline = JSON.parse(readFileSync(join(ROOT, 'eval', 'baseline.json'), 'utf8')) as EvalTotals;
    expect(worseThan(first, baseline)).toEqual([]);
    expect(await run()).toEqual(first);
  }, 60_000);

  it('a worse run is caught: one repeat more than the baseline fails the comparison', () => {
    const baseline = JSON.parse(readFileSync(join(ROOT, 'eval', 'baseline.json'), 'utf8')) as EvalTotals;
    expect(worseThan({ ...baseline, repeats: baseline.repeats + 1 }, baseline)).toEqual([`repeats: ${baseline.repeats + 1} (baseline ${baseline.repeats})`]);
    expect(worseThan({ ...baseline, reachedEnd: baseline.reachedEnd - 1 }, baseline)).toHaveLength(1);
  });
});
