/**
 * `npm run data` as an operator runs it (the real CLI as a child process, against the real
 * Redis on a unique key prefix): no Redis configured is a settings error (exit 2, as --help
 * says), and `audit` prints an aligned table by default and JSON lines with --json.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { REDIS_URL, cleanup, uniquePrefix } from '../redis/helpers.js';

const prefixes: string[] = [];
afterEach(async () => {
  while (prefixes.length) await cleanup(prefixes.pop()!);
});

async function data(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/data.ts', ...args], { cwd: ROOT, env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const noRedis = { ...process.env, REDIS_URL: '', REDIS_CLUSTER_NODES: '', REDIS_SENTINELS: '' };

describe('npm run data without Redis settings', () => {
  it('exits 2 (invalid settings), as --help documents, for every action', async () => {
    for (const args of [['audit'], ['erase', '--user', 'slack:U1'], ['dead-letters']]) {
      const r = await data(args, noRedis);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('No REDIS_URL (or REDIS_CLUSTER_NODES / REDIS_SENTINELS) is set');
    }
    expect((await data(['--help'], noRedis)).stdout).toMatch(/Exit codes: .*2 invalid settings \(also: no REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS set\)/);
  });
});

describe('npm run data -- audit', () => {
  it('prints a table with aligned columns, newest first, and JSON lines with --json', async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const env = { ...process.env, REDIS_URL, REDIS_KEY_PREFIX: prefix, OPERATOR: 'dana' };
    expect((await data(['erase', '--user', 'slack:U1'], env)).code).toBe(0);
    expect((await data(['export', '--user', 'discord:4242', '--operator', 'lee'], env)).code).toBe(0);

    const table = await data(['audit'], env);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^time \(UTC\) +action +actor +target +details$/);
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +export +operator:lee +discord:4242 +sessions=0$/);
    expect(lines[2]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +erase +operator:dana +slack:U1 +sessions=0 shared=0$/);
    // Aligned: every column starts at the same place on every line.
    const starts = (line: string, words: string[]) => words.map((w) => line.indexOf(w));
    expect(starts(lines[1]!, ['export', 'operator:lee', 'discord:4242', 'sessions='])).toEqual(starts(lines[0]!, ['action', 'actor', 'target', 'details']));
    expect(starts(lines[2]!, ['erase', 'operator:dana', 'slack:U1', 'sessions='])).toEqual(starts(lines[0]!, ['action', 'actor', 'target', 'details']));
    expect(table.stdout).not.toContain('{');

    const json = await data(['audit', '--json', '--count', '1'], env);
    const rows = json.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    expect(rows).toEqual([{ id: expect.stringMatching(/^\d+-\d+$/), actor: 'operator:lee', action: 'export', target: 'discord:4242', sessions: '0', at: expect.any(String) }]);
  });

  it('says so on stderr when there are no entries, and prints nothing on stdout', async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const r = await data(['audit'], { ...process.env, REDIS_URL, REDIS_KEY_PREFIX: prefix });
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(r.stderr).toContain('no audit entries');
  });
});

describe('npm run data and .env', () => {
  it('reads REDIS_URL and REDIS_KEY_PREFIX from .env in the folder it runs in, as npm start does', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { createRequire } = await import('node:module');
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const cwd = mkdtempSync(join(tmpdir(), 'trt-dotenv-'));
    try {
      writeFileSync(join(cwd, '.env'), `REDIS_URL=${REDIS_URL}\nREDIS_KEY_PREFIX=${prefix}\n`);
      const tsx = createRequire(join(ROOT, 'package.json')).resolve('tsx');
      const r = await promisify(execFile)(process.execPath, ['--import', tsx, join(ROOT, 'scripts/data.ts'), 'audit'], { cwd, env: { ...noRedis, REDIS_URL: undefined, REDIS_KEY_PREFIX: undefined }, timeout: 30_000 }).then(
        (o) => ({ code: 0, ...o }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
      expect(r.stderr).not.toContain('No REDIS_URL');
      expect(r.code).toBe(0);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
