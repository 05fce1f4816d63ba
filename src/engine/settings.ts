/**
 * The `settings` command: shows and changes what a person has told the bot about themselves,
 * in plain words. Today that is the country whose crisis lines come first (`settings country
 * AU`, `settings country auto`); anything else gets one line saying what is accepted.
 */
import type { ResponsesConfig, SafetyConfig } from '../config/schemas.js';
import { countryName, supportedCountries, withCountryLines } from '../safety/crisis-lines.js';
import type { Prefs } from '../session/prefs.js';
import { fillSlots } from '../text/template.js';
import type { SessionState } from './session-state.js';
import type { Step } from './types.js';

export type SettingsRequest = { kind: 'show' } | { kind: 'country'; code: string } | { kind: 'country_auto' } | { kind: 'invalid' };

const SETTINGS = /^[/!]?settings\b[.!?]*(?:\s+(.*))?$/i;

/** The settings request a whole message makes, or null when it is not the `settings` command. */
export function parseSettings(text: string): SettingsRequest | null {
  const m = SETTINGS.exec(text.trim());
  if (!m) return null;
  const args = (m[1] ?? '').trim().toLowerCase().replace(/[.!?]+$/, '').split(/\s+/).filter(Boolean);
  if (args.length === 0) return { kind: 'show' };
  if (args[0] !== 'country' || args.length !== 2) return { kind: 'invalid' };
  if (args[1] === 'auto') return { kind: 'country_auto' };
  return /^[a-z]{2}$/.test(args[1]!) ? { kind: 'country', code: args[1]!.toUpperCase() } : { kind: 'invalid' };
}

/** Who tells us where the person is, as they would say it. */
export function platformWord(platform: string): string {
  return platform === 'slack' ? 'Slack' : platform === 'discord' ? 'Discord' : 'your platform';
}

export interface SettingsTurn {
  request: SettingsRequest;
  prefs: Prefs;
  /** What the platform says this turn (or said before), for `country auto`. */
  platformCountry: string | undefined;
  platform: string;
  state: SessionState;
}

/** The reply, and the prefs to write when they change. */
export function settingsStep(responses: ResponsesConfig, safety: SafetyConfig, t: SettingsTurn): Step {
  const lines = responses.settings;
  const resources = safety.resources;
  const codes = supportedCountries(resources).join(', ');
  const platform = platformWord(t.platform);
  const base = { kind: 'command' as const, state: t.state, keepUserText: true, action: 'settings' };
  const describe = (p: Prefs): string => {
    if (p.country && countryName(resources, p.country)) return fillSlots(lines.country_chosen, { name: countryName(resources, p.country)! });
    const hinted = t.platformCountry ?? p.platformCountry;
    if (hinted && countryName(resources, hinted)) return fillSlots(lines.country_platform, { name: countryName(resources, hinted)!, platform });
    const d = resources.default_country;
    if (d && countryName(resources, d)) return fillSlots(lines.country_default, { name: countryName(resources, d)! });
    return lines.country_none;
  };
  const r = t.request;
  if (r.kind === 'show') return { ...base, reply: fillSlots(lines.show, { country: describe(t.prefs), codes, platform }) };
  if (r.kind === 'country' && countryName(resources, r.code)) {
    const prefs = { ...t.prefs, country: r.code };
    const list = withCountryLines('', resources, r.code).trim();
    return { ...base, reply: fillSlots(lines.country_set, { name: countryName(resources, r.code)!, lines: list }), prefs };
  }
  if (r.kind === 'country_auto') {
    const prefs = { ...t.prefs, country: undefined };
    return { ...base, reply: fillSlots(lines.country_auto, { platform, country: describe(prefs) }), prefs };
  }
  return { ...base, reply: fillSlots(lines.invalid, { codes }) };
}
