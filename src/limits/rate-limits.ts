/**
 * Rate limits shared by every instance (rate-limiter-flexible): messages per
 * user, per session and per tenant, and one global budget of LLM tokens.
 *
 * Why this library: its Redis limiter counts with one Lua script per consume,
 * so the count is atomic in Redis and N allowed means N across any number of
 * instances; it can refuse a key that has used its allowance from memory
 * (no Redis call for repeat offenders); and it falls back to an in-memory
 * "insurance" limiter when Redis fails, so an outage never throws at a turn.
 * During an outage each instance limits on its own: the limits become
 * per-instance until Redis is back.
 *
 * Fixed windows: a key's window starts with its first message and lasts
 * `duration_s`. Order: user, then session, then tenant, stopping at the first
 * refusal, so one person's flood cannot use up their thread's or their
 * tenant's allowance (earlier scopes keep the message they counted).
 *
 * Message text never reaches this module; logs carry scopes and error codes.
 */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimit, RateLimitsConfig } from '../config/schemas.js';
import type { RedisClient } from '../redis/connection.js';
import { errorCode } from '../util/error-code.js';
import { silentLogger, type Logger } from '../util/logger.js';

export interface LimitSubject {
  /** "<platform>:<user>" */
  userKey: string;
  sessionId: string;
  tenant?: string | undefined;
}

export type LimitScope = 'user' | 'session' | 'tenant';

export type LimitDecision =
  | { allowed: true }
  | {
      allowed: false;
      scope: LimitScope;
      retryAfterMs: number;
      /** true for the first refusal of this subject in the current window: only then send the friendly reply */
      notify: boolean;
    };

export interface RateLimits {
  readonly name: string;
  /** Counts one message against every configured limit (user, session, tenant). */
  admit(subject: LimitSubject): Promise<LimitDecision>;
  /** Counts LLM tokens against the global budget; allowed false means fall back (offline responder). */
  spendTokens(tokens: number): Promise<{ allowed: boolean; retryAfterMs: number }>;
  close?(): void;
}

/**
 * The library's Lua script, changed so that a consume that would go over the
 * limit is refused WITHOUT being counted (it returns what the count would have
 * been, so the library still sees "over"). A refused LLM spend falls back to
 * the offline responder and spends nothing, so it must not eat the budget.
 * ioredis registers the script per client under one name ("rlflxIncr"), so
 * every RedisRateLimits limiter uses this same script.
 * ARGV: points to consume, window seconds, the limit's points.
 */
const COUNT_IF_ADMITTED = `redis.call('set', KEYS[1], 0, 'EX', ARGV[2], 'NX')
local consumed = tonumber(redis.call('get', KEYS[1])) + tonumber(ARGV[1])
if consumed <= tonumber(ARGV[3]) then redis.call('incrby', KEYS[1], ARGV[1]) end
local ttl = redis.call('pttl', KEYS[1])
if ttl == -1 then
  redis.call('expire', KEYS[1], ARGV[2])
  ttl = 1000 * ARGV[2]
end
return {consumed, ttl}`;

/** A memory limiter that gives a refused consume back, like the Lua script above. */
class RefundingMemoryLimiter extends RateLimiterMemory {
  override consume(key: string | number, points = 1, options?: { [key: string]: any }): Promise<RateLimiterRes> {
    return super.consume(key, points, options).catch(async (res: unknown) => {
      // Never over the limit; a spend racing this one in the same tick may be refused too.
      if (res instanceof RateLimiterRes) await this.reward(key, points);
      throw res;
    });
  }
}

/** "a moment", "about 8 seconds", "about 40 seconds", "about a minute", "about 2 minutes", "about 3 hours". */
export function formatWait(ms: number): string {
  const s = Math.ceil(Math.max(0, ms) / 1000);
  if (s <= 1) return 'a moment';
  if (s <= 10) return `about ${s} seconds`;
  const fives = Math.ceil(s / 5) * 5; // "about 37 seconds" reads as false precision
  if (fives < 60) return `about ${fives} seconds`;
  const m = Math.round(s / 60);
  if (m <= 1) return 'about a minute';
  if (m < 90) return `about ${m} minutes`;
  const h = Math.round(m / 60);
  return `about ${h} hours`;
}

/** Remembers, per instance, which refusals were already notified, until their window ends. */
class NoticeMemory {
  private readonly until = new Map<string, number>();
  private sweepAt = 10_000;

  has(key: string): boolean {
    const t = this.until.get(key);
    return t !== undefined && t > Date.now();
  }

  set(key: string, ttlMs: number): void {
    const now = Date.now();
    if (this.until.size >= this.sweepAt) {
      // Entries outlive nothing but their window; sweeping at doubling sizes keeps inserts cheap under a flood.
      for (const [k, t] of this.until) if (t <= now) this.until.delete(k);
      this.sweepAt = Math.max(10_000, this.until.size * 2);
    }
    this.until.set(key, now + ttlMs);
  }

  /** true (and remembered) the first time a key is seen in its window. */
  claim(key: string, ttlMs: number): boolean {
    if (this.has(key)) return false;
    this.set(key, ttlMs);
    return true;
  }

  clear(): void {
    this.until.clear();
  }
}

type Limiters = Partial<Record<LimitScope | 'llm', RateLimiterAbstract>>;

const isRefusal = (x: unknown): x is RateLimiterRes => x instanceof RateLimiterRes;
const positiveMs = (ms: number) => Math.max(1, Math.ceil(ms));

/** What both implementations share: the order of scopes, refusals and notices. */
abstract class LimitsBase implements RateLimits {
  abstract readonly name: string;
  protected readonly notices = new NoticeMemory();

  constructor(
    protected readonly limiters: Limiters,
    protected readonly logger: Logger,
  ) {}

  /** Whether this refusal is the first one of its window for this notice key. */
  protected abstract claimNotice(key: string, ttlMs: number): Promise<boolean>;

  async admit(subject: LimitSubject): Promise<LimitDecision> {
    const steps: Array<[LimitScope, string | undefined]> = [
      ['user', subject.userKey],
      ['session', subject.sessionId],
      ['tenant', subject.tenant],
    ];
    for (const [scope, key] of steps) {
      const limiter = this.limiters[scope];
      if (!limiter || key === undefined || key === '') continue;
      try {
        await limiter.consume(key, 1);
      } catch (err) {
        if (!isRefusal(err)) {
          // Only reachable if the insurance limiter itself fails: let the message through rather than silence someone.
          this.logger.warn({ scope, err: errorCode(err) }, 'rate limit check failed; message allowed');
          continue;
        }
        const retryAfterMs = positiveMs(err.msBeforeNext);
        // One notice per person per refusing scope (and per session or tenant) per window.
        const noticeKey = scope === 'user' ? `user:${subject.userKey}` : `${scope}:${key}|${subject.userKey}`;
        const notify = await this.claimNotice(noticeKey, retryAfterMs);
        return { allowed: false, scope, retryAfterMs, notify };
      }
    }
    return { allowed: true };
  }

  async spendTokens(tokens: number): Promise<{ allowed: boolean; retryAfterMs: number }> {
    const limiter = this.limiters.llm;
    const points = Math.ceil(tokens);
    if (!limiter || !(points > 0)) return { allowed: true, retryAfterMs: 0 };
    try {
      await limiter.consume('global', points);
      return { allowed: true, retryAfterMs: 0 };
    } catch (err) {
      if (isRefusal(err)) return { allowed: false, retryAfterMs: positiveMs(err.msBeforeNext) };
      this.logger.warn({ err: errorCode(err) }, 'LLM budget check failed; spend allowed');
      return { allowed: true, retryAfterMs: 0 };
    }
  }

  close(): void {
    this.notices.clear();
  }
}

function memoryLimiter(limit: RateLimit, keyPrefix: string, refunding = false): RateLimiterMemory {
  const opts = { keyPrefix, points: limit.points, duration: limit.duration_s };
  return refunding ? new RefundingMemoryLimiter(opts) : new RateLimiterMemory(opts);
}

/** One process, no Redis: the same limits, counted in this process's memory. */
export class MemoryRateLimits extends LimitsBase {
  readonly name = 'memory';

  constructor(opts: { config: RateLimitsConfig; logger?: Logger }) {
    const c = opts.config;
    super(
      {
        ...(c.per_user ? { user: memoryLimiter(c.per_user, 'rl:user') } : {}),
        ...(c.per_session ? { session: memoryLimiter(c.per_session, 'rl:session') } : {}),
        ...(c.per_tenant ? { tenant: memoryLimiter(c.per_tenant, 'rl:tenant') } : {}),
        ...(c.llm_tokens ? { llm: memoryLimiter(c.llm_tokens, 'rl:llm', true) } : {}),
      },
      opts.logger ?? silentLogger,
    );
  }

  protected async claimNotice(key: string, ttlMs: number): Promise<boolean> {
    return this.notices.claim(key, ttlMs);
  }
}

/** Limits counted in Redis, shared by every instance using the same prefix. */
export class RedisRateLimits extends LimitsBase {
  readonly name = 'redis';
  private readonly client: RedisClient;
  private readonly prefix: string;

  constructor(opts: { client: RedisClient; prefix: string; config: RateLimitsConfig; logger?: Logger }) {
    const { client, prefix, config: c } = opts;
    const make = (limit: RateLimit | null, scope: string, blockInMemory: boolean, refunding = false) =>
      limit
        ? new RateLimiterRedis({
            storeClient: client,
            keyPrefix: `${prefix}:rl:${scope}`, // one key per limit and subject, alone in its command: fine in a Cluster
            points: limit.points,
            duration: limit.duration_s,
            customIncrTtlLuaScript: COUNT_IF_ADMITTED,
            // A key that reached its allowance is refused from memory until its window (Redis PTTL) ends.
            ...(blockInMemory ? { inMemoryBlockOnConsumed: limit.points } : {}),
            // Not connected: go straight to the insurance limiter instead of waiting for a timeout.
            rejectIfRedisNotReady: true,
            insuranceLimiter: memoryLimiter(limit, `rl:insurance:${scope}`, refunding),
          })
        : undefined;
    const limiters: Limiters = {};
    const block = c.block_in_memory;
    const user = make(c.per_user, 'user', block);
    const session = make(c.per_session, 'session', block);
    const tenant = make(c.per_tenant, 'tenant', block);
    // No memory block for tokens: a refused big spend must not block the small ones that still fit.
    const llm = make(c.llm_tokens, 'llm', false, true);
    if (user) limiters.user = user;
    if (session) limiters.session = session;
    if (tenant) limiters.tenant = tenant;
    if (llm) limiters.llm = llm;
    super(limiters, opts.logger ?? silentLogger);
    this.client = client;
    this.prefix = prefix;
  }

  /**
   * SET NX PX in Redis: exactly one instance wins per window. The answer is
   * remembered locally, so a refusal already known here costs no Redis call.
   * Redis down: notify (a person should learn why they get no answer), but at
   * most once per window on this instance.
   */
  protected async claimNotice(key: string, ttlMs: number): Promise<boolean> {
    if (this.notices.has(key)) return false;
    if (this.client.status !== 'ready') return this.notices.claim(key, ttlMs);
    try {
      const won = (await this.client.set(`${this.prefix}:rl:notified:${key}`, '1', 'PX', ttlMs, 'NX')) === 'OK';
      this.notices.set(key, ttlMs);
      return won;
    } catch (err) {
      this.logger.warn({ err: errorCode(err) }, 'rate limit notice mark failed; notifying from this instance');
      return this.notices.claim(key, ttlMs);
    }
  }

  override close(): void {
    super.close();
    for (const l of Object.values(this.limiters)) if (l instanceof RateLimiterRedis) l.deleteInMemoryBlockedAll();
  }
}
