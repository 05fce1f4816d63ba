/**
 * Analytics counters in Redis. The hot path (turn, limited) only adds to an
 * in-memory map: a turn never waits for, or fails because of, analytics. A
 * timer (unref'd, so it never keeps the process alive) writes the map every
 * flushEveryMs with HINCRBY + EXPIRE per touched key, one pipeline per hash
 * slot group. A failed write keeps its counts for the next flush, up to
 * maxFailures flushes in a row, then drops them with a warning so memory
 * stays bounded during a long outage. Key layout: ./keys.ts.
 */
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from '../redis/connection.js';
import { errorCode } from '../util/error-code.js';
import type { Logger } from '../util/logger.js';
import { turnFields, type Analytics, type AnalyticsLimited, type AnalyticsTurn } from './analytics.js';
import { AnalyticsKeys, NO_TENANT, bucketsBetween, dayBucket, hashTag, hourBucket, indexMember, safeName, type AnalyticsScope } from './keys.js';

/** The scope an index member names (`tenant:<t>`, `exp:<e>:<arm>`), or undefined for anything else. */
function scopeOf(member: string): AnalyticsScope | undefined {
  const parts = member.split(':');
  if (parts[0] === 'tenant' && parts.length === 2 && parts[1]) return { tenant: parts[1] };
  if (parts[0] === 'exp' && parts.length === 3 && parts[1] && parts[2]) return { experiment: parts[1], arm: parts[2] };
  return undefined;
}

export interface RedisAnalyticsOptions {
  client: RedisClient;
  prefix: string;
  logger: Logger;
  /** How often counts are written (default 1000 ms). */
  flushEveryMs?: number;
  /** Hour keys expire this long after their last write (default 8 days). */
  hourTtlDays?: number;
  /** Day keys expire this long after their last write (default 400 days: a year-on-year comparison). */
  dayTtlDays?: number;
  /** Consecutive failed flushes before the unwritten counts are dropped (default 10). */
  maxFailures?: number;
  /** Distinct keys held in memory at most; beyond it new keys are dropped (default 10 000). */
  maxPendingKeys?: number;
  now?: () => Date;
  /** How often the index set is swept of scopes whose counts have all expired (default 1 h). */
  sweepEveryMs?: number;
}

/** Counts waiting to be written to one key. */
interface PendingKey {
  key: string;
  tag: string;
  member: string;
  ttlSeconds: number;
  /** field -> increment; empty when only the EXPIRE is owed (it failed last time). */
  fields: Map<string, number>;
}

/** One command in a pipeline, so a per-command failure puts back exactly what was not written. */
type Sent = { kind: 'incr'; entry: PendingKey; field: string; by: number } | { kind: 'expire'; entry: PendingKey } | { kind: 'index'; members: string[] };

/** Members already in the index set: re-adding them every flush would be wasted work. Bounded. */
const MAX_INDEXED_CACHE = 10_000;

export class RedisAnalytics implements Analytics {
  private readonly client: RedisClient;
  private readonly keys: AnalyticsKeys;
  private readonly logger: Logger;
  private readonly hourTtl: number;
  private readonly dayTtl: number;
  private readonly maxFailures: number;
  private readonly maxPendingKeys: number;
  private readonly now: () => Date;
  private pending = new Map<string, PendingKey>();
  private readonly indexed = new Set<string>();
  /** Index members whose SADD failed: sent again with the next flush even if their keys see no new counts. */
  private readonly unindexed = new Set<string>();
  private failures = 0;
  private overflowWarned = false;
  private closed = false;
  private inFlight = false;
  private chain: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private readonly sweeper: NodeJS.Timeout;

  constructor(o: RedisAnalyticsOptions) {
    this.client = o.client;
    this.keys = new AnalyticsKeys(o.prefix);
    this.logger = o.logger;
    this.hourTtl = Math.round((o.hourTtlDays ?? 8) * 86_400);
    this.dayTtl = Math.round((o.dayTtlDays ?? 400) * 86_400);
    this.maxFailures = o.maxFailures ?? 10;
    this.maxPendingKeys = o.maxPendingKeys ?? 10_000;
    this.now = o.now ?? (() => new Date());
    // A tick while a flush is still running is skipped, so slow writes never pile up.
    this.timer = setInterval(() => {
      if (!this.inFlight && (this.pending.size > 0 || this.unindexed.size > 0)) void this.flush();
    }, o.flushEveryMs ?? 1000);
    this.timer.unref();
    // The index set has no TTL of its own: it is swept instead (any instance may; idempotent).
    this.sweeper = setInterval(() => {
      // Forget what this instance believes is indexed, so a scope another instance swept is added back at its next count.
      this.indexed.clear();
      void this.sweepIndex().catch((err: unknown) => this.logger.warn({ err: errorCode(err) }, 'analytics index sweep failed'));
    }, o.sweepEveryMs ?? 3_600_000);
    this.sweeper.unref();
  }

  /**
   * Removes from the index set every scope none of whose day counts still exist (they all
   * expired, after `dayTtlDays` without a count): the set stays as large as the scopes with
   * data, however many tenants and experiment arms came and went. One EXISTS per scope (all
   * its day keys share a slot). Returns how many were removed.
   */
  async sweepIndex(): Promise<number> {
    const members = await this.client.smembers(this.keys.index);
    const now = this.now();
    const days = bucketsBetween(new Date(now.getTime() - this.dayTtl * 1000 - 86_400_000), now, 'day');
    let removed = 0;
    for (const member of members) {
      const scope = scopeOf(member);
      if (!scope) continue; // not ours to judge
      const live = await this.client.exists(...days.map((d) => this.keys.counts(scope, 'day', d)));
      if (live > 0) continue;
      removed += await this.client.srem(this.keys.index, member);
      this.indexed.delete(member);
    }
    return removed;
  }

  turn(e: AnalyticsTurn): void {
    try {
      const fields = turnFields(e).map((f) => (f.startsWith('reached:') ? `reached:${safeName(f.slice(8))}` : f));
      if (fields.length > 0) this.count(e.tenant, e.experiments, fields);
    } catch (err) {
      this.report('analytics: a turn was not counted', err);
    }
  }

  limited(i: AnalyticsLimited): void {
    try {
      this.count(i.tenant, i.experiments, ['rate_limited']);
    } catch (err) {
      this.report('analytics: a rate-limited message was not counted', err);
    }
  }

  /** Fields (key × field) counted but not yet written: for tests and shutdown logs. */
  get pendingFields(): number {
    let n = 0;
    for (const p of this.pending.values()) n += p.fields.size;
    return n;
  }

  /** Writes everything counted before the call; resolves even when Redis fails (the counts are kept). */
  flush(): Promise<void> {
    // The catch keeps the chain usable: one unexpected error must not make every later flush reject.
    this.chain = this.chain.then(() => this.flushOnce()).catch((err: unknown) => this.report('analytics: flush failed unexpectedly', err));
    return this.chain;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    clearInterval(this.sweeper);
    await this.flush();
  }

  private count(tenant: string | undefined, experiments: Record<string, string>, fields: string[]): void {
    if (this.closed) return;
    const at = this.now();
    const h = hourBucket(at);
    const d = dayBucket(at);
    const scopes: AnalyticsScope[] = [{ tenant: tenant === undefined ? NO_TENANT : safeName(tenant) }];
    for (const [experiment, arm] of Object.entries(experiments)) scopes.push({ experiment: safeName(experiment), arm: safeName(arm) });
    for (const scope of scopes) {
      const tag = hashTag(scope);
      const member = indexMember(scope);
      this.add(this.keys.counts(scope, 'hour', h), tag, member, this.hourTtl, fields);
      this.add(this.keys.counts(scope, 'day', d), tag, member, this.dayTtl, fields);
    }
  }

  private entry(key: string, tag: string, member: string, ttlSeconds: number): PendingKey | undefined {
    let p = this.pending.get(key);
    if (!p) {
      if (this.pending.size >= this.maxPendingKeys) {
        if (!this.overflowWarned) this.logger.warn({ maxPendingKeys: this.maxPendingKeys }, 'analytics: too many unwritten counters; new ones are dropped until a flush succeeds');
        this.overflowWarned = true;
        return undefined;
      }
      p = { key, tag, member, ttlSeconds, fields: new Map() };
      this.pending.set(key, p);
    }
    return p;
  }

  private add(key: string, tag: string, member: string, ttlSeconds: number, fields: string[], by = 1): void {
    const p = this.entry(key, tag, member, ttlSeconds);
    if (p) for (const f of fields) p.fields.set(f, (p.fields.get(f) ?? 0) + by);
  }

  private async flushOnce(): Promise<void> {
    if (this.pending.size === 0 && this.unindexed.size === 0) return;
    this.inFlight = true;
    const batch = this.pending;
    this.pending = new Map();
    this.overflowWarned = false;
    try {
      const failed = await this.write([...batch.values()]);
      if (failed.length === 0) {
        this.failures = 0;
        return;
      }
      this.failures++;
      if (this.failures >= this.maxFailures) {
        const dropped = failed.filter((s) => s.kind === 'incr').length;
        this.logger.warn({ failures: this.failures, droppedFields: dropped }, 'analytics: Redis writes kept failing; unwritten counts dropped');
        this.failures = 0;
        this.putBack(failed.filter((s) => s.kind === 'index')); // names only, a few: keep them so the CLI still lists the scope
        return;
      }
      this.putBack(failed);
    } finally {
      this.inFlight = false;
    }
  }

  /** Sends the batch; returns the commands that did not succeed. */
  private async write(entries: PendingKey[]): Promise<Sent[]> {
    // A Cluster pipeline must stay within one slot: group by hash tag. One server takes a single pipeline.
    const groups = new Map<string, Sent[]>();
    const group = (tag: string) => {
      const g = this.client.isCluster ? tag : '';
      let list = groups.get(g);
      if (!list) groups.set(g, (list = []));
      return list;
    };
    const members = new Set<string>(this.unindexed);
    this.unindexed.clear();
    for (const e of entries) {
      const list = group(`{${e.tag}}`);
      for (const [field, by] of e.fields) list.push({ kind: 'incr', entry: e, field, by });
      list.push({ kind: 'expire', entry: e });
      if (!this.indexed.has(e.member)) members.add(e.member);
    }
    if (members.size > 0) group('index').push({ kind: 'index', members: [...members] });
    const results = await Promise.all([...groups.values()].map((sent) => this.send(sent)));
    return results.flat();
  }

  private async send(sent: Sent[]): Promise<Sent[]> {
    let results: Array<[Error | null, unknown]> | null;
    try {
      const pipeline: ChainableCommander = this.client.pipeline();
      for (const s of sent) {
        if (s.kind === 'incr') pipeline.hincrby(s.entry.key, s.field, s.by);
        else if (s.kind === 'expire') pipeline.expire(s.entry.key, s.entry.ttlSeconds);
        else pipeline.sadd(this.keys.index, ...s.members);
      }
      results = await pipeline.exec();
    } catch (err) {
      this.failed(err);
      return sent;
    }
    if (!results) {
      this.failed(new Error('pipeline discarded'));
      return sent;
    }
    const failed: Sent[] = [];
    results.forEach(([err], i) => {
      const s = sent[i]!;
      if (err) {
        failed.push(s);
        return;
      }
      if (s.kind === 'index') {
        if (this.indexed.size + s.members.length > MAX_INDEXED_CACHE) this.indexed.clear();
        for (const m of s.members) this.indexed.add(m);
      }
    });
    if (failed.length > 0) this.failed(results.find(([err]) => err)?.[0]);
    return failed;
  }

  /** Unwritten increments go back into the map (added to anything counted meanwhile); a failed EXPIRE is owed next time. */
  private putBack(failed: Sent[]): void {
    for (const s of failed) {
      if (s.kind === 'incr') this.add(s.entry.key, s.entry.tag, s.entry.member, s.entry.ttlSeconds, [s.field], s.by);
      else if (s.kind === 'expire') this.entry(s.entry.key, s.entry.tag, s.entry.member, s.entry.ttlSeconds);
      else for (const m of s.members) this.unindexed.add(m);
    }
  }

  /** Logs a failed write: the first of a run as a warning, the retries at debug (a 1 s timer would flood the log). */
  private failed(err: unknown): void {
    const fields = { err: errorCode(err), failures: this.failures + 1 };
    if (this.failures === 0) this.logger.warn(fields, 'analytics: writing counts to Redis failed; they are kept for the next flush');
    else this.logger.debug(fields, 'analytics: writing counts to Redis failed again');
  }

  private report(msg: string, err: unknown): void {
    try {
      this.logger.warn({ err: errorCode(err) }, msg);
    } catch {
      // A failing logger must not break a turn either.
    }
  }
}
