/**
 * `npm run bench` against a Redis that is not there (the real CLI as a child process, with a
 * deadline): one line naming the server and exit 4 before anything is measured, never the
 * ioredis "Unhandled error event" stack traces; --help lists the exit codes.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { freePort } from '../redis/helpers.js';

/** A run that has not ended by then is a failure: the old bench took 10 s and more to die. */
const DEADLINE_MS = 15_000;

async function bench(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | string; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/bench/main.ts', ...args], { cwd: ROOT, env, timeout: DEADLINE_MS });
    return { code: 0, stdout, stderr, ms: Date.now() - started };
  } catch (err) {
    const e = err as { code: number | string; killed?: boolean; stdout: string; stderr: string };
    return { code: e.killed ? 'killed at the deadline' : e.code, stdout: e.stdout, stderr: e.stderr, ms: Date.now() - started };
  }
}

describe('npm run bench with Redis unreachable', () => {
  it('prints one line naming the URL and exits 4, for a Redis part and for the whole bench', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    for (const args of [['--only', 'redis'], []]) {
      const r = await bench([...args, '--seconds', '1'], { ...process.env, REDIS_URL: url });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(4);
      expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringContaining(`bench: Redis ${url} unreachable (ECONNREFUSED)`)]);
      expect(r.stderr).not.toContain('Unhandled error event');
      expect(r.stdout).toBe('');
    }
  });

  it('names the server without its password', async () => {
    const port = await freePort();
    const r = await bench(['--only', 'queue', '--redis-url', `redis://:hunter2@127.0.0.1:${port}`]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`Redis redis://127.0.0.1:${port} unreachable`);
    expect(r.stderr).not.toContain('hunter2');
  });

  it('--help lists every exit code; a bad part is a usage error (2)', async () => {
    const help = await bench(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes: 0 measured, 1 a measurement failed, 2 bad arguments, 4 Redis unreachable.');
    const bad = await bench(['--only', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("argument 'nope' is invalid");
  });
});
