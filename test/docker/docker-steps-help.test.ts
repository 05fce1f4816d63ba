/**
 * `npm run docker:steps -- --help` tells an operator how long the run takes, as measured
 * (docs/operations.md), not "a few minutes": the script itself runs npm ci and a build, so
 * it is not run here; its figure is kept honest by measuring when it changes.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

describe('npm run docker:steps -- --help', () => {
  it('states the measured duration in seconds and the exit codes, and exits 0', async () => {
    const { stdout } = await promisify(execFile)('bash', ['scripts/docker-steps.sh', '--help'], { cwd: ROOT, timeout: 10_000 });
    expect(stdout).toMatch(/Takes about \d+ s on a 2-core machine/);
    expect(stdout).not.toMatch(/few minutes/);
    expect(stdout).toContain('Exit codes: 0 all steps passed, 1 a step failed (the message says which), 2 bad arguments.');
  });
});
