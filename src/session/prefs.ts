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
}

/** The hash fields, by Prefs key: the stored names are snake_case, like the session's meta. */
export const PREF_FIELDS = { country: 'country', platformCountry: 'platform_country' } as const satisfies Record<keyof Prefs, string>;

/** True when nothing is set (the hash is then deleted rather than written empty). */
export function isEmptyPrefs(p: Prefs): boolean {
  return Object.values(p).every((v) => v === undefined);
}

/** Two prefs say the same thing (a turn writes prefs only when they changed). */
export function samePrefs(a: Prefs, b: Prefs): boolean {
  return (Object.keys(PREF_FIELDS) as Array<keyof Prefs>).every((k) => a[k] === b[k]);
}
