/** Tenant names (tenants.json) and the variant a turn gets without overrides. */
import { describe, expect, it } from 'vitest';
import { StaticConfig } from '../../src/index.js';
import { repoConfig } from '../helpers.js';

describe('tenant names', () => {
  const config = structuredClone(repoConfig());
  config.tenants.tenants = { acme: { slack_teams: ['T0ACME'], discord_guilds: ['111'] } };
  const source = new StaticConfig(config);

  it('maps a Slack team or a Discord guild listed in tenants.json to its tenant name', () => {
    expect(source.variant({ platform: 'slack', userId: 'U1', tenant: 'T0ACME' }).tenant).toBe('acme');
    expect(source.variant({ platform: 'discord', userId: 'U1', tenant: '111' }).tenant).toBe('acme');
    // The same id on the other platform is not that tenant.
    expect(source.variant({ platform: 'discord', userId: 'U1', tenant: 'T0ACME' }).tenant).toBe('T0ACME');
  });

  it('an unlisted workspace is its own tenant; no workspace (a Discord DM) is none, on the base variant', () => {
    expect(source.variant({ platform: 'slack', userId: 'U1', tenant: 'T0OTHER' }).tenant).toBe('T0OTHER');
    expect(source.variant({ platform: 'discord', userId: 'U1' })).toBe(source.base);
    // Every tenant shares the compiled base: only the name differs.
    expect(source.variant({ platform: 'slack', userId: 'U1', tenant: 'T0ACME' }).navigator).toBe(source.base.navigator);
  });
});
