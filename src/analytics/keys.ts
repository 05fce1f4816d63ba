/**
 * The analytics key layout (prefix = REDIS_KEY_PREFIX). Each counter key is a
 * hash of field -> count; fields are `sessions`, `turns`, `completions`,
 * `crisis_referrals`, `rate_limited` and one `reached:<substate>` per substate
 * (the funnel). Buckets are UTC: hours `YYYYMMDDHH`, days `YYYYMMDD`.
 *
 *   <p>:analytics:tenant:{<tenant>}:h:<YYYYMMDDHH>      hash  a tenant's counts for one hour (TTL: hourTtlDays)
 *   <p>:analytics:tenant:{<tenant>}:d:<YYYYMMDD>        hash  a tenant's counts for one day (TTL: dayTtlDays)
 *   <p>:analytics:exp:{<experiment>}:<arm>:h:<YYYYMMDDHH>  hash  one experiment arm, one hour
 *   <p>:analytics:exp:{<experiment>}:<arm>:d:<YYYYMMDD>    hash  one experiment arm, one day
 *   <p>:analytics:index                                 set   "tenant:<t>" and "exp:<e>:<arm>" (what exists; no TTL:
 *                                                             swept hourly of scopes whose day counts all expired)
 *
 * Turns without a tenant count under the tenant `_none`. Braces are a Redis
 * Cluster hash tag: all keys of one tenant, or of one experiment (every arm),
 * share a slot, so one read of a report is one pipeline on one node.
 * Keys hold names only (tenant, experiment, arm, substate), never user ids or text.
 */

export type Granularity = 'hour' | 'day';

export const NO_TENANT = '_none';

/** What one counter belongs to. */
export type AnalyticsScope = { tenant: string } | { experiment: string; arm: string };

const NAME_CHARS = /[^A-Za-z0-9._@-]/g;
const MAX_NAME = 64;

/**
 * A name made safe for a key: letters, digits and `._@-` only (braces would break
 * the hash tag, colons the parsing), at most 64 characters. Deterministic, so the
 * reader finds what the writer wrote.
 */
export function safeName(name: string): string {
  const cleaned = name.replace(NAME_CHARS, '_').slice(0, MAX_NAME);
  return cleaned === '' ? '_' : cleaned;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The UTC hour bucket, `YYYYMMDDHH`. */
export function hourBucket(d: Date): string {
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}`;
}

/** The UTC day bucket, `YYYYMMDD`. */
export function dayBucket(d: Date): string {
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
}

export function bucketOf(d: Date, granularity: Granularity): string {
  return granularity === 'hour' ? hourBucket(d) : dayBucket(d);
}

/** A bucket id for people: `2026-05-01` or `2026-05-01 14:00` (UTC). */
export function formatBucket(bucket: string): string {
  const day = `${bucket.slice(0, 4)}-${bucket.slice(4, 6)}-${bucket.slice(6, 8)}`;
  return bucket.length === 10 ? `${day} ${bucket.slice(8, 10)}:00` : day;
}

/** Reports never read more buckets than this (a year of days is 366; eight days of hours is 192). */
export const MAX_BUCKETS = 2000;

/** Every bucket from `from` to `to` (both included), oldest first. */
export function bucketsBetween(from: Date, to: Date, granularity: Granularity): string[] {
  const stepMs = granularity === 'hour' ? 3_600_000 : 86_400_000;
  const start = new Date(from);
  if (granularity === 'hour') start.setUTCMinutes(0, 0, 0);
  else start.setUTCHours(0, 0, 0, 0);
  const out: string[] = [];
  for (let t = start.getTime(); t <= to.getTime(); t += stepMs) {
    if (out.length >= MAX_BUCKETS) throw new Error(`a report covers at most ${MAX_BUCKETS} buckets`);
    out.push(bucketOf(new Date(t), granularity));
  }
  return out;
}

export class AnalyticsKeys {
  constructor(readonly prefix = 'trt') {}

  /** The key of one scope and bucket. Names must already be safe (safeName). */
  counts(scope: AnalyticsScope, granularity: Granularity, bucket: string): string {
    const g = granularity === 'hour' ? 'h' : 'd';
    return 'tenant' in scope
      ? `${this.prefix}:analytics:tenant:{${scope.tenant}}:${g}:${bucket}`
      : `${this.prefix}:analytics:exp:{${scope.experiment}}:${scope.arm}:${g}:${bucket}`;
  }

  get index(): string {
    return `${this.prefix}:analytics:index`;
  }
}

/** The index set's member for a scope: `tenant:<t>` or `exp:<e>:<arm>`. */
export function indexMember(scope: AnalyticsScope): string {
  return 'tenant' in scope ? `tenant:${scope.tenant}` : `exp:${scope.experiment}:${scope.arm}`;
}

/** The Cluster hash tag of a scope's keys (keys with the same tag share a slot). */
export function hashTag(scope: AnalyticsScope): string {
  return 'tenant' in scope ? scope.tenant : scope.experiment;
}
