/**
 * The `settings` command: shows and changes what a person has told the bot about themselves,
 * in plain words: the country whose crisis lines come first, how long replies are, a daily
 * check-in and the time zone it keeps. Anything else gets one line saying what is accepted.
 */
import type { ResponsesConfig, SafetyConfig } from '../config/schemas.js';
import { countryName, supportedCountries, withCountryLines } from '../safety/crisis-lines.js';
import type { Prefs } from '../session/prefs.js';
import { fillSlots } from '../text/template.js';
import type { SessionState } from './session-state.js';
import type { Step } from './types.js';

export type SettingsRequest =
  | { kind: 'show' }
  | { kind: 'country'; code: string }
  | { kind: 'country_auto' }
  | { kind: 'replies'; value: 'short' | 'normal' }
  | { kind: 'checkins'; time: string }
  | { kind: 'checkins_off' }
  | { kind: 'timezone'; zone: string }
  | { kind: 'timezone_auto' }
  | { kind: 'invalid' };

const SETTINGS = /^[/!]?settings\b[.!?]*(?:\s+(.*))?$/i;
const TIME = /^([01]?\d|2[0-3])[:.h]([0-5]\d)$/;

/** The settings request a whole message makes, or null when it is not the `settings` command. */
export function parseSettings(text: string): SettingsRequest | null {
  const m = SETTINGS.exec(text.trim());
  if (!m) return null;
  const raw = (m[1] ?? '').trim().replace(/[.!?]+$/, '').split(/\s+/).filter(Boolean);
  const args = raw.map((a) => a.toLowerCase());
  if (args.length === 0) return { kind: 'show' };
  const [what, ...rest] = args;
  if (what === 'country' && rest.length === 1) {
    if (rest[0] === 'auto') return { kind: 'country_auto' };
    return /^[a-z]{2}$/.test(rest[0]!) ? { kind: 'country', code: rest[0]!.toUpperCase() } : { kind: 'invalid' };
  }
  if (what === 'replies' && rest.length === 1 && (rest[0] === 'short' || rest[0] === 'normal')) return { kind: 'replies', value: rest[0] };
  if (what === 'checkins' || what === 'checkin' || what === 'check-ins') {
    if (rest.length === 1 && (rest[0] === 'off' || rest[0] === 'stop' || rest[0] === 'none')) return { kind: 'checkins_off' };
    const at = rest[0] === 'daily' ? rest.slice(1) : rest;
    const t = at.length === 1 ? TIME.exec(at[0]!) : null;
    return t ? { kind: 'checkins', time: `${t[1]!.padStart(2, '0')}:${t[2]}` } : { kind: 'invalid' };
  }
  if ((what === 'timezone' || what === 'tz') && rest.length === 1) {
    if (rest[0] === 'auto') return { kind: 'timezone_auto' };
    const zone = raw[1]; // the argument as typed: IANA names are case-sensitive
    return zone && isTimeZone(zone) ? { kind: 'timezone', zone: canonicalZone(zone) } : { kind: 'invalid' };
  }
  return { kind: 'invalid' };
}

/** True for a time zone the runtime knows (IANA names, e.g. Europe/London). */
export function isTimeZone(zone: string): boolean {
  if (!/^[A-Za-z_]+(?:\/[A-Za-z0-9_+-]+){0,2}$/.test(zone) || zone.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function canonicalZone(zone: string): string {
  return new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone;
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
  /** Check-ins can be scheduled here: a schedule exists and this is the person's DM. */
  checkins: 'available' | 'not_here' | 'unavailable';
}

/** The reply, the prefs to write when they change, and the schedule change. */
export function settingsStep(responses: ResponsesConfig, safety: SafetyConfig, t: SettingsTurn): Step {
  const lines = responses.settings;
  const resources = safety.resources;
  const codes = supportedCountries(resources).join(', ');
  const platform = platformWord(t.platform);
  const base = { kind: 'command' as const, state: t.state, keepUserText: true, action: 'settings' };
  const zoneOf = (p: Prefs) => p.timeZone ?? p.platformTimeZone;
  const describe = (p: Prefs): string => {
    if (p.country && countryName(resources, p.country)) return fillSlots(lines.country_chosen, { name: countryName(resources, p.country)! });
    const hinted = t.platformCountry ?? p.platformCountry;
    if (hinted && countryName(resources, hinted)) return fillSlots(lines.country_platform, { name: countryName(resources, hinted)!, platform });
    const d = resources.default_country;
    if (d && countryName(resources, d)) return fillSlots(lines.country_default, { name: countryName(resources, d)! });
    return lines.country_none;
  };
  const r = t.request;
  const reply = (text: string, prefs?: Prefs, schedule?: Step['schedule']): Step => ({ ...base, reply: text, ...(prefs ? { prefs } : {}), ...(schedule ? { schedule } : {}) });
  switch (r.kind) {
    case 'show': {
      const p = t.prefs;
      const zone = zoneOf(p);
      return reply(
        fillSlots(lines.show, {
          country: describe(p),
          codes,
          platform,
          replies: p.replies === 'short' ? lines.replies_short_word : lines.replies_normal_word,
          checkins: p.checkins ? fillSlots(lines.checkins_on_word, { time: p.checkins, zone: zone ?? '?' }) : lines.checkins_off_word,
          timezone: zone ?? lines.timezone_unknown_word,
        }),
      );
    }
    case 'country': {
      if (!countryName(resources, r.code)) break;
      const list = withCountryLines('', resources, r.code).trim();
      return reply(fillSlots(lines.country_set, { name: countryName(resources, r.code)!, lines: list }), { ...t.prefs, country: r.code });
    }
    case 'country_auto': {
      const prefs = { ...t.prefs, country: undefined };
      return reply(fillSlots(lines.country_auto, { platform, country: describe(prefs) }), prefs);
    }
    case 'replies':
      return reply(r.value === 'short' ? lines.replies_short : lines.replies_normal, { ...t.prefs, replies: r.value === 'short' ? 'short' : undefined });
    case 'checkins': {
      if (t.checkins === 'unavailable') return reply(lines.checkins_unavailable);
      if (t.checkins === 'not_here') return reply(lines.checkins_dm_only);
      const zone = zoneOf(t.prefs);
      if (!zone) return reply(lines.checkins_need_zone);
      const quiet = inQuietHours(r.time) ? ` ${lines.checkins_quiet_note}` : '';
      return reply(`${fillSlots(lines.checkins_set, { time: r.time, zone })}${quiet}`, { ...t.prefs, checkins: r.time }, { kind: 'set', time: r.time, timeZone: zone });
    }
    case 'checkins_off':
      return reply(lines.checkins_off, { ...t.prefs, checkins: undefined }, { kind: 'clear' });
    case 'timezone':
    case 'timezone_auto': {
      const prefs = { ...t.prefs, timeZone: r.kind === 'timezone' ? r.zone : undefined };
      const zone = zoneOf(prefs);
      const text = zone ? fillSlots(lines.timezone_set, { zone }) : lines.checkins_need_zone;
      // A check-in already asked for keeps its local time in the new zone.
      const schedule = prefs.checkins && zone && t.checkins === 'available' ? ({ kind: 'set', time: prefs.checkins, timeZone: zone } as const) : undefined;
      return reply(text, prefs, schedule);
    }
    case 'invalid':
      break;
  }
  return reply(fillSlots(lines.invalid, { codes }));
}

/** `stop`: no more check-ins, said plainly (the conversation itself goes on whenever the person writes). */
export function stopStep(responses: ResponsesConfig, t: Pick<SettingsTurn, 'prefs' | 'state'>): Step {
  const had = t.prefs.checkins !== undefined;
  return {
    kind: 'command',
    state: t.state,
    keepUserText: true,
    action: 'stop',
    reply: had ? responses.settings.checkins_off : responses.settings.stop_nothing,
    ...(had ? { prefs: { ...t.prefs, checkins: undefined }, schedule: { kind: 'clear' as const } } : {}),
  };
}

/** Quiet hours, 22:00 to 08:00 local: a time the person chose inside them is kept (they chose it), and said so. */
export function inQuietHours(time: string): boolean {
  const h = Number(time.slice(0, 2));
  return h >= 22 || h < 8;
}
