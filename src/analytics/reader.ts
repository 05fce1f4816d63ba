/**
 * Reads the analytics counters back for reports (`npm run analytics`). One
 * pipeline per report: all keys of a tenant, or of an experiment's arms, share
 * a hash slot (see ./keys.ts), so this also works on a Cluster.
 */
import type { RedisClient } from '../redis/connection.js';
import { AnalyticsKeys, bucketsBetween, safeName, type AnalyticsScope, type Granularity } from './keys.js';

export type ReadScope = { tenant: string } | { experiment: string };

export interface ReadQuery {
  scope: ReadScope;
  from: Date;
  to: Date;
  granularity: Granularity;
}

export interface CountsRow {
  /** The bucket id: `YYYYMMDDHH` (hour) or `YYYYMMDD` (day), UTC. */
  bucket: string;
  /** The experiment arm (experiment scopes only). */
  arm?: string;
  counts: Record<string, number>;
}

export interface Scopes {
  tenants: string[];
  /** experiment -> its arms. */
  experiments: Record<string, string[]>;
}

/** What the index set says exists: tenants and experiments with their arms, sorted. */
export async function listScopes(client: RedisClient, prefix: string): Promise<Scopes> {
  const members = await client.smembers(new AnalyticsKeys(prefix).index);
  const tenants: string[] = [];
  const experiments: Record<string, string[]> = {};
  for (const m of members) {
    const [kind, name, arm] = m.split(':');
    if (kind === 'tenant' && name) tenants.push(name);
    else if (kind === 'exp' && name && arm) (experiments[name] ??= []).push(arm);
  }
  for (const arms of Object.values(experiments)) arms.sort();
  return { tenants: tenants.sort(), experiments: Object.fromEntries(Object.entries(experiments).sort(([a], [b]) => a.localeCompare(b))) };
}

/**
 * Counts per bucket (and per arm for an experiment) from `from` to `to`, oldest
 * first; buckets with no counts are left out. Arms come from the index set.
 */
export async function readCounts(client: RedisClient, prefix: string, q: ReadQuery): Promise<CountsRow[]> {
  const keys = new AnalyticsKeys(prefix);
  const buckets = bucketsBetween(q.from, q.to, q.granularity);
  let targets: Array<{ scope: AnalyticsScope; arm?: string }>;
  if ('tenant' in q.scope) {
    targets = [{ scope: { tenant: safeName(q.scope.tenant) } }];
  } else {
    const experiment = safeName(q.scope.experiment);
    const arms = (await listScopes(client, prefix)).experiments[experiment] ?? [];
    targets = arms.map((arm) => ({ scope: { experiment, arm }, arm }));
  }
  if (targets.length === 0 || buckets.length === 0) return [];
  const pipeline = client.pipeline();
  const order: Array<{ bucket: string; arm?: string }> = [];
  for (const bucket of buckets) {
    for (const t of targets) {
      pipeline.hgetall(keys.counts(t.scope, q.granularity, bucket));
      order.push(t.arm === undefined ? { bucket } : { bucket, arm: t.arm });
    }
  }
  const results = (await pipeline.exec()) ?? [];
  const rows: CountsRow[] = [];
  results.forEach(([err, value], i) => {
    if (err) throw err;
    const hash = value as Record<string, string>;
    const names = Object.keys(hash);
    if (names.length === 0) return;
    rows.push({ ...order[i]!, counts: Object.fromEntries(names.map((f) => [f, Number(hash[f])])) });
  });
  return rows;
}
