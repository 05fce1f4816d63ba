/**
 * Where a person is, as far as their crisis lines go: an ISO 3166-1 alpha-2 code from what they
 * chose, what their platform tells (a Slack user's time zone or locale, Discord's interaction
 * locale) or the config's default. Pure functions; the adapters pass the platform's raw values.
 *
 * Time zones map through `countries-and-timezones` (MIT, no dependencies, IANA tz data kept up
 * to date, aliases such as Asia/Calcutta included) rather than a table of our own: a hand-kept
 * table would go stale as zones are merged and renamed, and a wrong country means wrong
 * numbers. The same package's country list says which two-letter codes exist.
 */
import { getCountry, getTimezone } from 'countries-and-timezones';

/** True for an ISO 3166-1 alpha-2 code that exists ("AU"; not "XX", "UK" or "au"). */
export function isCountryCode(code: string): boolean {
  return /^[A-Z]{2}$/.test(code) && getCountry(code) !== null;
}

/**
 * The country a locale names ('en-AU', 'en_GB', 'pt-BR'), or undefined. A bare language ('de',
 * 'en') is not a country: German is spoken in four countries, English in dozens. A numeric
 * region ('es-419', Latin America) is not one either.
 */
export function countryFromLocale(locale: string): string | undefined {
  let region: string | undefined;
  try {
    region = new Intl.Locale(locale.trim().replace(/_/g, '-')).region;
  } catch {
    return undefined; // not a BCP 47 tag
  }
  return region && isCountryCode(region) ? region : undefined;
}

/**
 * The country of an IANA time zone ('Australia/Sydney' -> 'AU', 'Europe/London' -> 'GB'), or
 * undefined for an unknown zone or one no country owns ('Etc/UTC'). A zone shared by several
 * countries is the first one's: the library lists the zone's own country first (Europe/Berlin
 * -> DE, while Europe/Stockholm, its alias, is SE).
 */
export function countryFromTimeZone(tz: string): string | undefined {
  const zone = getTimezone(tz.trim());
  const code = zone?.countries[0];
  return code && isCountryCode(code) ? code : undefined;
}

/** A code as a person or a stored value may give it: 'au', ' AU ' -> 'AU'; anything else undefined. */
export function normalizeCountry(value: string | null | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const code = value.trim().toUpperCase();
  return isCountryCode(code) ? code : undefined;
}

export interface CountryHints {
  /** The person's own setting (`settings country AU`). */
  chosen?: string | null | undefined;
  /** What their platform tells (countryFromLocale / countryFromTimeZone of its values). */
  platform?: string | null | undefined;
  /** The config's default_country. */
  fallback?: string | null | undefined;
}

/**
 * The first hint that is a real country code, in this order: the person's setting, the
 * platform's hint, the config default; else undefined (the generic lines only). A junk value is
 * skipped, not taken as "no country": a stored 'XX' must not hide the platform's 'AU'. A real
 * code without configured lines still wins (the person said where they are; they get the
 * generic lines rather than another country's).
 */
export function resolveCountry(hints: CountryHints): string | undefined {
  return normalizeCountry(hints.chosen) ?? normalizeCountry(hints.platform) ?? normalizeCountry(hints.fallback);
}
