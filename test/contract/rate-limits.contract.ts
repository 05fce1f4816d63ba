/**
 * The contract every RateLimits must meet, as a person writing to the bot notices it: up to the
 * limit answered, then refused with a true "come back in ..." wait, told once per window; the
 * per-user, per-session and per-tenant limits of `config.rateLimits` (user, then session, then
 * tenant, stopping at the first refusal); independent subjects unaffected; the LLM token budget.
 *
 * Each implementation's test file calls `rateLimitsContract` with a factory; whether two
 * instances (two bot processes) share their counts is declared: Redis shares, memory does not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RateLimitsConfig } from '../../src/config/schemas.js';
import type { LimitDecision, LimitSubject, RateLimits } from '../../src/index.js';

/** Every limit off unless given. */
export function limitsConfig(over: Partial<RateLimitsConfig>): RateLimitsConfig {
  return { version: 'contract', per_user: null, per_session: null, per_tenant: null, llm_tokens: null, block_in_memory: true, ...over };
}
const per = (points: number, duration_s = 60) => ({ points, duration_s });
const subject = (user: string, session = `console:D-${user}`, tenant?: string, platform = 'console'): LimitSubject => ({ userKey: `${platform}:${user}`, sessionId: session, tenant });
type Refusal = Extract<LimitDecision, { allowed: false }>;
const refusals = (ds: LimitDecision[]) => ds.filter((d): d is Refusal => !d.allowed);
const allowed = (ds: LimitDecision[]) => ds.filter((d) => d.allowed).length;
/** `n` messages from `s`, one after another. */
async function send(rl: RateLimits, s: LimitSubject, n: number): Promise<LimitDecision[]> {
  const out: LimitDecision[] = [];
  for (let i = 0; i < n; i++) out.push(await rl.admit(s));
  return out;
}
/** A refusal's wait is true: after now, within the window. */
function expectWait(d: LimitDecision, windowMs: number): void {
  if (d.allowed) throw new Error('expected a refusal');
  expect(d.retryAfterMs).toBeGreaterThan(0);
  expect(d.retryAfterMs).toBeLessThanOrEqual(windowMs);
}

export interface RateLimitsContractOptions {
  /** `n` fresh limiter instances (default 1) over one backing store, as `n` bot processes would have. */
  make(config: RateLimitsConfig, n?: number): Promise<RateLimits[]>;
  /** Whether instances share their counts (and their once-per-window notice). */
  shared: boolean;
}

export function rateLimitsContract(name: string, { make, shared }: RateLimitsContractOptions): void {
  describe(`${name}: RateLimits contract`, () => {
    const made: RateLimits[] = [];
    afterEach(() => made.splice(0).forEach((r) => r.close?.()));
    const one = async (config: RateLimitsConfig) => {
      const [rl] = await make(config);
      made.push(rl!);
      return rl!;
    };
    const many = async (config: RateLimitsConfig, n: number) => {
      const rls = await make(config, n);
      made.push(...rls);
      return rls;
    };

    it('admits up to the limit, then refuses with the scope and a retry-after within the window', async () => {
      const rl = await one(limitsConfig({ per_user: per(3, 60) }));
      const ds = await send(rl, subject('alice'), 5);
      expect(ds.map((d) => d.allowed)).toEqual([true, true, true, false, false]);
      for (const d of refusals(ds)) {
        expect(d.scope).toBe('user');
        expectWait(d, 60_000);
        expect(d.retryAfterMs).toBeGreaterThan(50_000); // the window began moments ago
      }
    });

    it('notify is true for the first refusal of a window only, also for refusals that arrive together', async () => {
      const rl = await one(limitsConfig({ per_user: per(4) }));
      const ds = await Promise.all(Array.from({ length: 12 }, () => rl.admit(subject('bob'))));
      expect(allowed(ds)).toBe(4);
      expect(refusals(ds).filter((d) => d.notify)).toHaveLength(1);
      expect(await send(rl, subject('bob'), 3)).toEqual(Array.from({ length: 3 }, () => expect.objectContaining({ allowed: false, notify: false })));
    });

    it('a new window admits again and notifies again, no earlier than the wait it told', async () => {
      const rl = await one(limitsConfig({ per_user: per(2, 1) }));
      const s = subject('carol');
      const first = await send(rl, s, 3);
      const refusedAt = Date.now();
      expect(first.map((d) => d.allowed)).toEqual([true, true, false]);
      const told = first[2] as Refusal;
      expect(told.notify).toBe(true);
      expectWait(told, 1000);
      // Asking again until admitted (each refusal meanwhile stays silent).
      const polled: LimitDecision[] = [];
      await pollUntilAdmitted(rl, s, polled, 3000);
      expect(Date.now() - refusedAt).toBeGreaterThanOrEqual(told.retryAfterMs - 50); // not before the wait it told
      expect(refusals(polled).every((d) => !d.notify)).toBe(true);
      const second = await send(rl, s, 2);
      expect(second[0]!.allowed).toBe(true); // two in the new window: the one that got through, and this
      expect(second[1]).toMatchObject({ allowed: false, scope: 'user', notify: true }); // told again, once
    });

    it('per session: everyone in a thread shares its allowance; a message refused for its sender does not use it; one notice per person', async () => {
      const rl = await one(limitsConfig({ per_user: per(2), per_session: per(3) }));
      const thread = 'slack:T1:C1:1700000000.000100';
      const u1 = await send(rl, subject('u1', thread), 5);
      expect(u1.map((d) => d.allowed)).toEqual([true, true, false, false, false]);
      expect(refusals(u1).every((d) => d.scope === 'user')).toBe(true);
      expect(await rl.admit(subject('u2', thread))).toEqual({ allowed: true }); // the session's third
      const u2 = await rl.admit(subject('u2', thread));
      expect(u2).toMatchObject({ allowed: false, scope: 'session', notify: true });
      expectWait(u2, 60_000);
      expect(await rl.admit(subject('u3', thread))).toMatchObject({ allowed: false, scope: 'session', notify: true }); // u3 is told too
      expect(await rl.admit(subject('u3', thread))).toMatchObject({ allowed: false, scope: 'session', notify: false });
      // u2's refused message still counted for u2 (the user scope comes first): u2 has now sent 2.
      expect(await rl.admit(subject('u2', thread))).toMatchObject({ allowed: false, scope: 'user', notify: true });
      expect(await rl.admit(subject('u4', 'slack:T1:C1:other'))).toEqual({ allowed: true }); // another thread counts on its own
    });

    it('per tenant: all sessions of a tenant share it; each person hears it once; other tenants and turns without one are not affected', async () => {
      const rl = await one(limitsConfig({ per_tenant: per(5) }));
      const ds: LimitDecision[] = [];
      for (let i = 0; i < 8; i++) ds.push(await rl.admit(subject(`p${i}`, `slack:T1:D${i}`, 'T1')));
      expect(ds.map((d) => d.allowed)).toEqual([true, true, true, true, true, false, false, false]);
      expect(refusals(ds).every((d) => d.scope === 'tenant' && d.notify)).toBe(true);
      expect(await rl.admit(subject('p5', 'slack:T1:D5', 'T1'))).toMatchObject({ allowed: false, scope: 'tenant', notify: false });
      expect(await rl.admit(subject('p0', 'slack:T2:D0', 'T2'))).toEqual({ allowed: true });
      expect(await rl.admit(subject('p0', 'console:D0'))).toEqual({ allowed: true });
    });

    it('independent subjects do not affect each other: other people, the same name on another platform, other sessions', async () => {
      const rl = await one(limitsConfig({ per_user: per(2), per_session: per(4) }));
      expect(allowed(await send(rl, subject('dan', 'console:s1'), 4))).toBe(2);
      expect(allowed(await send(rl, subject('erin', 'console:s2'), 2))).toBe(2);
      expect(allowed(await send(rl, subject('dan', 'slack:s3', undefined, 'slack'), 2))).toBe(2);
      // s1 has counted only dan's 2 admitted messages: 2 more fit for someone else.
      expect(allowed(await send(rl, subject('frank', 'console:s1'), 3))).toBe(2);
      expect(await rl.admit(subject('gina', 'console:s1'))).toMatchObject({ allowed: false, scope: 'session' });
      expect(await rl.admit(subject('gina', 'console:s4'))).toEqual({ allowed: true });
    });

    it('a limit set to null is not applied', async () => {
      const off = await one(limitsConfig({}));
      expect(allowed(await send(off, subject('h'), 50))).toBe(50);
      expect(await off.spendTokens(10_000_000)).toEqual({ allowed: true, retryAfterMs: 0 });
      const sessionOnly = await one(limitsConfig({ per_session: per(3) }));
      const ds = [...(await send(sessionOnly, subject('i', 'console:shared'), 3)), await sessionOnly.admit(subject('j', 'console:shared'))];
      expect(ds.map((d) => d.allowed)).toEqual([true, true, true, false]);
      expect(ds[3]).toMatchObject({ scope: 'session' });
    });

    it('the LLM token budget: spends admitted while they fit; a refused spend is not counted', async () => {
      const rl = await one(limitsConfig({ llm_tokens: per(1000) }));
      const spends = [];
      for (let i = 0; i < 5; i++) spends.push(await rl.spendTokens(300));
      expect(spends.map((s) => s.allowed)).toEqual([true, true, true, false, false]);
      for (const s of spends.filter((x) => !x.allowed)) {
        expect(s.retryAfterMs).toBeGreaterThan(0);
        expect(s.retryAfterMs).toBeLessThanOrEqual(60_000);
      }
      expect(await rl.spendTokens(100)).toEqual({ allowed: true, retryAfterMs: 0 }); // 900 + 100 fits exactly
      expect((await rl.spendTokens(1)).allowed).toBe(false);
      expect(await rl.spendTokens(0)).toEqual({ allowed: true, retryAfterMs: 0 });
    });

    const sharing = shared
      ? 'two instances share the counts and the once-per-window notice'
      : 'two instances count on their own (one process each): each admits the whole limit and tells once';
    it(sharing, async () => {
      const [a, b] = await many(limitsConfig({ per_user: per(3), llm_tokens: per(1000) }), 2);
      const ds = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a! : b!).admit(subject('kim'))));
      expect(allowed(ds)).toBe(shared ? 3 : 6);
      expect(refusals(ds).filter((d) => d.notify)).toHaveLength(shared ? 1 : 2);
      expect(await a!.admit(subject('kim'))).toMatchObject({ allowed: false, notify: false });
      expect(await b!.admit(subject('kim'))).toMatchObject({ allowed: false, notify: false });
      const spends = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a! : b!).spendTokens(300)));
      expect(spends.filter((s) => s.allowed)).toHaveLength(shared ? 3 : 6);
    });
  });
}

/** Asks again every 25 ms until admitted (the window ended), failing after `timeoutMs`. */
async function pollUntilAdmitted(rl: RateLimits, s: LimitSubject, seen: LimitDecision[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await rl.admit(s);
    seen.push(d);
    if (d.allowed) return;
    if (Date.now() > deadline) throw new Error(`still refused after ${timeoutMs} ms: ${JSON.stringify(d)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
