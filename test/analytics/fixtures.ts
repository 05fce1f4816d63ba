/**
 * Test turns built on the real navigation (config/system/core_system/simplified_navigation.json):
 * 1.1_goal -> 1.2_vision -> 1.3_psychoeducation -> 1.4_problem_and_body -> 1.5_readiness -> 1.6_handover.
 */
import type { AnalyticsLimited, AnalyticsTurn } from '../../src/analytics/analytics.js';

export const PATH = ['1.1_goal', '1.2_vision', '1.3_psychoeducation', '1.4_problem_and_body', '1.5_readiness', '1.6_handover'];

const base = (tenant: string | undefined, experiments: Record<string, string>): Omit<AnalyticsTurn, 'kind' | 'reached' | 'newSession'> => ({
  tenant,
  experiments,
  crisisReferral: false,
  completed: false,
});

/** A session that opens in 1.1_goal and moves forward `steps` substates (6 = to the terminal 1.6_handover). */
export function walk(tenant: string | undefined, experiments: Record<string, string>, reachedCount: number): AnalyticsTurn[] {
  return PATH.slice(0, reachedCount).map((reached, i) => ({
    ...base(tenant, experiments),
    kind: 'reply',
    newSession: i === 0,
    reached: [reached],
    completed: reached === '1.6_handover',
  }));
}

export const reply = (tenant: string | undefined, experiments: Record<string, string>): AnalyticsTurn => ({ ...base(tenant, experiments), kind: 'reply', newSession: false, reached: [] });
export const crisis = (tenant: string | undefined, experiments: Record<string, string>): AnalyticsTurn => ({
  ...base(tenant, experiments),
  kind: 'crisis',
  crisisReferral: true,
  newSession: false,
  reached: [],
});
export const unavailable = (tenant: string | undefined, experiments: Record<string, string>): AnalyticsTurn => ({ ...base(tenant, experiments), kind: 'unavailable', newSession: false, reached: [] });

/**
 * Five sessions over two arms of "onboarding" (A, E also in "tone"/"warm"):
 *   control: A completes (6 turns), B reaches 1.2 and replies once (3), C opens then gets a crisis referral (2)
 *   variant: D reaches 1.3 (3), E completes (6) + an unavailable turn (not a turn), 2 rate-limited messages
 * Tenants: A-D "acme"; E none.
 */
export function scenario(): { turns: AnalyticsTurn[]; limited: AnalyticsLimited[] } {
  const ctl = { onboarding: 'control' };
  const vrt = { onboarding: 'variant' };
  const turns = [
    ...walk('acme', { ...ctl, tone: 'warm' }, 6),
    ...walk('acme', ctl, 2),
    reply('acme', ctl),
    ...walk('acme', ctl, 1),
    crisis('acme', ctl),
    ...walk('acme', vrt, 3),
    ...walk(undefined, { ...vrt, tone: 'warm' }, 6),
    unavailable(undefined, { ...vrt, tone: 'warm' }),
  ];
  return { turns, limited: [{ tenant: 'acme', experiments: vrt }, { tenant: undefined, experiments: vrt }] };
}

/** What scenario() adds up to. */
export const EXPECTED = {
  control: { sessions: 3, turns: 11, completions: 1, crisis_referrals: 1, rate_limited: 0 },
  variant: { sessions: 2, turns: 9, completions: 1, crisis_referrals: 0, rate_limited: 2 },
  acme: { sessions: 4, turns: 14, completions: 1, crisis_referrals: 1, rate_limited: 1 },
  none: { sessions: 1, turns: 6, completions: 1, crisis_referrals: 0, rate_limited: 1 },
  warm: { sessions: 2, turns: 12, completions: 2, crisis_referrals: 0, rate_limited: 0 },
  funnel: {
    control: [3, 2, 1, 1, 1, 1],
    variant: [2, 2, 2, 1, 1, 1],
  },
};
