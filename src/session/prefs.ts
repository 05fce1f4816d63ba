/**
 * What a person has told the bot about how they want it to work, kept per person (not per
 * session: it follows them into every thread and DM). Stored in one hash per person,
 * `<p>:user:{<platform>:<user>}:prefs`, its values sealed like history when a key is set,
 * erased with the person's data, included in their export, and kept as long as their sessions.
 */
export interface Prefs {
  /** The country the person chose (`settings country AU`), ISO 3166-1 alpha-2, upper case. */
  country?: string | undefined;
  /**
   * Where the person's platform says they are (a Slack user's time zone or locale, Discord's
   * interaction locale), kept once seen; used only while `country` is unset.
   */
  platformCountry?: string | undefined;
  /** `short`: one or two sentences (`settings replies short`); unset or `normal`: as the config writes them. */
  replies?: string | undefined;
  /** A daily check-in the person asked for, at this local time (`HH:MM`, 24 h); unset: none (never on by default). */
  checkins?: string | undefined;
  /** The person's time zone (IANA, e.g. `Europe/London`), when they set it (`settings timezone …`). */
  timeZone?: string | undefined;
  /** The time zone the platform says (a Slack user's profile), kept once seen; used while `timeZone` is unset. */
  platformTimeZone?: string | undefined;
}

/** The hash fields, by Prefs key: the stored names are snake_case, like the session's meta. */
export const PREF_FIELDS = {
  country: 'country',
  platformCountry: 'platform_country',
  replies: 'replies',
  checkins: 'checkins',
  timeZone: 'time_zone',
  platformTimeZone: 'platform_time_zone',
} as const satisfies Record<keyof Prefs, string>;

/** True when nothing is set (the hash is then deleted rather than written empty). */
export function isEmptyPrefs(p: Prefs): boolean {
  return Object.values(p).every((v) => v === undefined);
}

/** Two prefs say the same thing (a turn writes prefs only when they changed). */
export function samePrefs(a: Prefs, b: Prefs): boolean {
  return (Object.keys(PREF_FIELDS) as Array<keyof Prefs>).every((k) => a[k] === b[k]);
}

/** The Prefs keys, in PREF_FIELDS order. */
const PREF_KEYS = Object.keys(PREF_FIELDS) as Array<keyof Prefs>;

/**
 * Prefs as a stored hash's changes: the fields to set (values sealed by `seal`) and the
 * known fields to remove (unset ones). A hash field nobody knows (written by a newer
 * version) is left alone.
 */
export function prefsToFields(p: Prefs, seal: (plain: string) => string): { set: string[]; unset: string[] } {
  const set: string[] = [];
  const unset: string[] = [];
  for (const k of PREF_KEYS) {
    const v = p[k];
    if (v === undefined) unset.push(PREF_FIELDS[k]);
    else set.push(PREF_FIELDS[k], seal(v));
  }
  return { set, unset };
}

/**
 * A stored hash back as Prefs: values opened by `open`; a value that cannot be opened
 * (a lost key, a damaged record) is dropped, never thrown, so a turn never fails on it.
 */
export function prefsFromFields(hash: Readonly<Record<string, string>>, open: (sealed: string) => string): Prefs {
  const out: Prefs = {};
  for (const k of PREF_KEYS) {
    const raw = hash[PREF_FIELDS[k]];
    if (raw === undefined) continue;
    try {
      out[k] = open(raw);
    } catch {
      // unreadable: as if unset
    }
  }
  return out;
}

/** A copy holding only the set fields (what a store keeps and hands back). */
export function copyPrefs(p: Prefs): Prefs {
  const out: Prefs = {};
  for (const k of PREF_KEYS) if (p[k] !== undefined) out[k] = p[k];
  return out;
}
