/**
 * Where a tenant's safety alerts go: its `safety_alert` in tenants.json (reviewed base
 * config), else the deployment's default from the SAFETY_ALERT_* settings, else nowhere (no
 * alerts, and the person is never told that someone was).
 */
import type { Settings } from '../../config/settings.js';
import type { TenantsConfig } from '../../config/tenant-schema.js';
import { destinationsOf, type AlertDestination, type AlertTarget } from './alert.js';

/** The deployment's default, from the environment (SAFETY_ALERT_*). */
export interface AlertDefaults {
  slackChannel?: string | undefined;
  discordChannel?: string | undefined;
  webhookUrl?: string | undefined;
  /** SAFETY_ALERT_TEAM_NAME. */
  team?: string | undefined;
  /** SAFETY_ALERT_REMIND_MINUTES: reminders of an untaken alert, for the default and every tenant that names none (0: none). */
  remindAfterMinutes?: number | undefined;
}

/** The default from the settings (the bot and `npm run safety -- test` read it the same way). */
export function alertDefaultsOf(s: Pick<Settings, 'SAFETY_ALERT_SLACK_CHANNEL' | 'SAFETY_ALERT_DISCORD_CHANNEL' | 'SAFETY_ALERT_WEBHOOK_URL' | 'SAFETY_ALERT_TEAM_NAME' | 'SAFETY_ALERT_REMIND_MINUTES'>): AlertDefaults {
  return {
    slackChannel: s.SAFETY_ALERT_SLACK_CHANNEL,
    discordChannel: s.SAFETY_ALERT_DISCORD_CHANNEL,
    webhookUrl: s.SAFETY_ALERT_WEBHOOK_URL,
    team: s.SAFETY_ALERT_TEAM_NAME,
    remindAfterMinutes: s.SAFETY_ALERT_REMIND_MINUTES,
  };
}

/** What the person reads when no team name is configured. */
export const DEFAULT_TEAM = 'the support team';

export class AlertRouting {
  private readonly byTenant = new Map<string, AlertTarget>();
  private readonly fallback: AlertTarget | null;

  constructor(tenants: TenantsConfig, defaults: AlertDefaults = {}) {
    const team = defaults.team ?? DEFAULT_TEAM;
    const remind = (minutes: number | undefined) => ({ remindAfterMs: (minutes ?? defaults.remindAfterMinutes ?? 0) * 60_000 });
    for (const [name, t] of Object.entries(tenants.tenants)) {
      const a = t.safety_alert;
      if (!a) continue;
      this.byTenant.set(name, { slackChannel: a.slack_channel, discordChannel: a.discord_channel, webhookUrl: a.webhook_url, includeText: a.include_text, team: a.team ?? team, ...remind(a.remind_after_minutes) });
    }
    const d: AlertTarget = { slackChannel: defaults.slackChannel, discordChannel: defaults.discordChannel, webhookUrl: defaults.webhookUrl, includeText: false, team, ...remind(undefined) };
    this.fallback = destinationsOf(d).length > 0 ? d : null;
  }

  /** The target for a tenant (by name), or the default; null when alerts go nowhere. */
  target(tenant: string | undefined): AlertTarget | null {
    return (tenant !== undefined ? this.byTenant.get(tenant) : undefined) ?? this.fallback;
  }

  /** Every destination some tenant (or the default) uses: which notifiers a worker needs. */
  get destinations(): AlertDestination[] {
    const all = new Set<AlertDestination>();
    for (const t of [...this.byTenant.values(), ...(this.fallback ? [this.fallback] : [])]) for (const d of destinationsOf(t)) all.add(d);
    return [...all];
  }

  /** Whether tenants.json names this tenant with a `safety_alert` of its own. */
  hasOwn(tenant: string): boolean {
    return this.byTenant.has(tenant);
  }

  /** Tenants whose alerts carry the person's words (include_text): named at start-up. */
  get includingText(): string[] {
    return [...this.byTenant].filter(([, t]) => t.includeText).map(([name]) => name);
  }

  /** One line for the start-up banner: where alerts go, or that they are off. */
  describe(): string {
    if (this.byTenant.size === 0 && !this.fallback) return 'off (no tenant safety_alert, no SAFETY_ALERT_* set)';
    const parts: string[] = [];
    if (this.fallback) parts.push(`default -> ${destinationsOf(this.fallback).join(' + ')}`);
    if (this.byTenant.size > 0) parts.push(`${this.byTenant.size} tenant(s) of their own`);
    const text = this.includingText;
    return `${parts.join(', ')}${text.length > 0 ? `; message text included for ${text.join(', ')}` : ''}`;
  }
}
