/** Experiment arms: a hash of experiment and person, so a person's arm is stable and shares match the split. */
import { describe, expect, it } from 'vitest';
import { assignArm } from '../../src/index.js';

const people = Array.from({ length: 10_000 }, (_, i) => `slack:U${String(i).padStart(6, '0')}`);
const shares = (experiment: string, split: Record<string, number>) => {
  const counts: Record<string, number> = {};
  for (const p of people) {
    const arm = assignArm(experiment, p, split);
    counts[arm] = (counts[arm] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).map(([arm, n]) => [arm, (100 * n) / people.length]));
};

describe('experiment assignment', () => {
  it('matches the configured split within 2 percentage points over 10,000 ids', () => {
    for (const [experiment, split] of [
      ['tone', { control: 50, warm: 50 }],
      ['pace', { a: 70, b: 20, c: 10 }],
      ['tiny', { control: 95, treatment: 5 }],
      ['three', { x: 1, y: 1, z: 1 }],
    ] as const) {
      const total = Object.values(split).reduce((a, b) => a + b, 0);
      const got = shares(experiment, split);
      for (const [arm, weight] of Object.entries(split)) expect(Math.abs((got[arm] ?? 0) - (100 * weight) / total), `${experiment}/${arm}`).toBeLessThan(2);
    }
  });

  it('is stable for a person and independent between experiments', () => {
    const split = { control: 50, warm: 50 };
    for (const p of people.slice(0, 200)) expect(assignArm('tone', p, split)).toBe(assignArm('tone', p, split));
    // Being in "warm" of one experiment says nothing about another: about half overlap, not all.
    const same = people.filter((p) => assignArm('tone', p, split) === assignArm('voice', p, split)).length;
    expect(same / people.length).toBeGreaterThan(0.45);
    expect(same / people.length).toBeLessThan(0.55);
  });
});
