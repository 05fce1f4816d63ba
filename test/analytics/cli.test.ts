/**
 * `npm run analytics` as a real process (node --import tsx scripts/analytics.ts)
 * against the machine's Redis, on counts written by RedisAnalytics just before.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisAnalytics } from '../../src/analytics/redis-analytics.js';
import { silentLogger } from '../../src/util/logger.js';
import { REDIS_URL, cleanup, client, uniquePrefix } from '../redis/helpers.js';
import { EXPECTED, PATH, scenario } from './fixtures.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const COLUMNS = ['sessions', 'turns', 'completions', 'crisis_referrals', 'rate_limited'] as const;

let prefix: string;
let redis: Redis;
let dir: string;

async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const base: Record<string, string | undefined> = { ...process.env, REDIS_URL, REDIS_KEY_PREFIX: prefix, REDIS_CLUSTER_NODES: undefined, REDIS_SENTINELS: undefined, ...env };
  const clean = Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined)) as Record<string, string>;
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/analytics.ts', ...args], { cwd: ROOT, env: clean });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The numbers of a table row whose first cell is `name`. */
function row(table: string, name: string): number[] {
  const line = table.split('\n').find((l) => l.split(/\s{2,}/)[0] === name);
  expect(line, `row ${name} in\n${table}`).toBeDefined();
  return line!.split(/\s{2,}/).slice(1).map(Number);
}

beforeAll(async () => {
  prefix = uniquePrefix();
  redis = client();
  dir = mkdtempSync(join(tmpdir(), 'trt-analytics-'));
  const a = new RedisAnalytics({ client: redis, prefix, logger: silentLogger });
  const { turns, limited } = scenario();
  for (const t of turns) a.turn(t);
  for (const l of limited) a.limited(l);
  await a.close();
});

afterAll(async () => {
  redis.disconnect();
  await cleanup(prefix);
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run analytics', () => {
  it('--help exits 0', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--experiment');
    expect(r.stdout).toContain('--chart');
  });

  it('lists tenants and experiments without a scope', async () => {
    const r = await cli([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('acme');
    expect(r.stdout).toContain('onboarding: control, variant');
  });

  it('prints totals per arm and the funnel in the navigation order', async () => {
    const r = await cli(['--experiment', 'onboarding']);
    expect(r.code, r.stderr).toBe(0);
    expect(row(r.stdout, 'control')).toEqual(COLUMNS.map((c) => EXPECTED.control[c]));
    expect(row(r.stdout, 'variant')).toEqual(COLUMNS.map((c) => EXPECTED.variant[c]));
    const funnel = r.stdout.slice(r.stdout.indexOf('Funnel'));
    expect(funnel).toMatch(/\n1\.2_vision +2 \(67%\) +2 \(100%\)\n/);
    const order = PATH.map((id) => funnel.indexOf(id));
    expect(order.every((at, i) => at > 0 && (i === 0 || at > order[i - 1]!))).toBe(true);
  });

  it('prints a tenant by hour, with the total', async () => {
    const r = await cli(['--tenant', 'acme', '--hours', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(row(r.stdout, 'total')).toEqual(COLUMNS.map((c) => EXPECTED.acme[c]));
  });

  it('--json parses and carries the same numbers', async () => {
    const r = await cli(['--experiment', 'onboarding', '--days', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { totals: Record<string, Record<string, number>>; funnel: { substates: string[]; series: Array<{ name: string; sessions: number; reached: Record<string, number> }> } };
    expect(out.totals.control).toMatchObject(Object.fromEntries(Object.entries(EXPECTED.control).filter(([, n]) => n > 0)));
    expect(out.funnel.substates).toEqual(PATH);
    expect(out.funnel.series.find((s) => s.name === 'variant')?.reached).toEqual(Object.fromEntries(PATH.map((id, i) => [id, EXPECTED.funnel.variant[i]])));
  });

  it('--chart writes an SVG with every arm and substate label', async () => {
    const file = join(dir, 'funnel.svg');
    const r = await cli(['--experiment', 'onboarding', '--chart', file]);
    expect(r.code, r.stderr).toBe(0);
    const svg = readFileSync(file, 'utf8');
    expect(svg).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*>/);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    for (const label of ['control', 'variant', ...PATH]) expect(svg).toContain(`>${label}`);
    // Balanced tags: every opened element is closed (self-closing ones count as both).
    const opened = [...svg.matchAll(/<([a-z]+)[\s>]/g)].length - [...svg.matchAll(/<[a-z]+[^>]*\/>/g)].length;
    expect(opened).toBe([...svg.matchAll(/<\/[a-z]+>/g)].length);
  });

  it('exits 2 without Redis settings or on bad arguments, 4 when Redis cannot be reached', async () => {
    expect((await cli(['--experiment', 'onboarding'], { REDIS_URL: undefined })).code).toBe(2);
    expect((await cli([], { REDIS_URL: 'http://nope' })).code).toBe(2);
    const bad = await cli(['--tenant', 'acme', '--days', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--days');
    expect((await cli([], { REDIS_URL: 'redis://127.0.0.1:1', REDIS_COMMAND_TIMEOUT_MS: '300' })).code).toBe(4);
    expect((await cli(['--no-such-option'])).code).toBe(2);
  });
});
