/**
 * Where alerts go, as the bot and `npm run safety -- test` work it out: a tenant's own
 * `safety_alert` (tenants.json) wins, else the SAFETY_ALERT_* default, else nowhere; the reminder
 * interval comes from the tenant's `remind_after_minutes`, else SAFETY_ALERT_REMIND_MINUTES.
 */
import { describe, expect, it } from 'vitest';
import { AlertRouting, alertDefaultsOf, loadSettings } from '../../src/index.js';
import { TenantsConfigSchema } from '../../src/config/tenant-schema.js';

const tenants = TenantsConfigSchema.parse({
  version: 't1',
  tenants: {
    acme: { slack_teams: ['T0ACME'], safety_alert: { slack_channel: 'C0ACMECARE', team: 'the Acme care team', remind_after_minutes: 5 } },
    quiet: { discord_guilds: ['100000000000000001'], safety_alert: { webhook_url: 'https://hooks.example.com/q', remind_after_minutes: 0, include_text: true } },
    plain: { slack_teams: ['T0PLAIN'] },
  },
});

describe('AlertRouting', () => {
  it("a tenant's own destinations and reminder interval win; the others get the default's, from the settings", () => {
    const routing = new AlertRouting(tenants, alertDefaultsOf(loadSettings({ SAFETY_ALERT_WEBHOOK_URL: 'https://hooks.example.com/default', SAFETY_ALERT_REMIND_MINUTES: '15' })));
    expect(routing.target('acme')).toEqual({ slackChannel: 'C0ACMECARE', discordChannel: undefined, webhookUrl: undefined, includeText: false, team: 'the Acme care team', remindAfterMs: 5 * 60_000 });
    expect(routing.target('quiet')).toMatchObject({ webhookUrl: 'https://hooks.example.com/q', includeText: true, remindAfterMs: 0 });
    // No safety_alert of its own, unknown or no tenant: the default, never with text.
    for (const t of ['plain', 'unknown', undefined]) expect(routing.target(t), String(t)).toMatchObject({ webhookUrl: 'https://hooks.example.com/default', includeText: false, team: 'the support team', remindAfterMs: 15 * 60_000 });
    expect(routing.hasOwn('acme')).toBe(true);
    expect(routing.hasOwn('plain')).toBe(false);
    expect(routing.destinations.sort()).toEqual(['slack', 'webhook']);
    expect(routing.includingText).toEqual(['quiet']);
  });

  it('reminders every 10 minutes unless set; nothing anywhere means no target', () => {
    const d = new AlertRouting({ version: 't0', tenants: {} }, alertDefaultsOf(loadSettings({ SAFETY_ALERT_SLACK_CHANNEL: 'C0DEFAULT' })));
    expect(d.target(undefined)?.remindAfterMs).toBe(10 * 60_000);
    const none = new AlertRouting({ version: 't0', tenants: {} }, alertDefaultsOf(loadSettings({})));
    expect(none.target(undefined)).toBeNull();
    expect(none.describe()).toBe('off (no tenant safety_alert, no SAFETY_ALERT_* set)');
  });

  it('remind_after_minutes outside 0..1440 is refused by the schema', () => {
    const bad = (m: unknown) => TenantsConfigSchema.safeParse({ version: 't', tenants: { a: { safety_alert: { slack_channel: 'C0ACMECARE', remind_after_minutes: m } } } }).success;
    expect(bad(1441)).toBe(false);
    expect(bad(-1)).toBe(false);
    expect(bad(2.5)).toBe(false);
    expect(bad(1440)).toBe(true);
  });
});
