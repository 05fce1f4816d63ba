/**
 * Where a Slack user is, as Slack tells it (country and time zone): their profile's time zone (what Slack shows as
 * their local time; a better sign of the country than the locale, which is en-US for most
 * people whatever the country), else a locale with a region. Asked once per user with
 * users.info (scope users:read) and kept a day in this process; the country then travels
 * with each queued message and is kept in the person's preferences (their own setting wins).
 */
import type { WebClient } from '@slack/web-api';
import { countryFromLocale, countryFromTimeZone, errorCode, type Logger } from '../../src/index.js';

const KEEP_MS = 24 * 3600_000;
const MAX_USERS = 10_000;

export class SlackUserCountry {
  private readonly known = new Map<string, { where: UserPlace; at: number }>();
  private readonly asking = new Map<string, Promise<UserPlace>>();

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** The user's country and time zone, as far as Slack says (nothing when it cannot be asked now: asked again next time). */
  async of(client: WebClient, userId: string): Promise<UserPlace> {
    const hit = this.known.get(userId);
    if (hit && this.now() - hit.at < KEEP_MS) return hit.where;
    let pending = this.asking.get(userId);
    if (!pending) {
      pending = this.ask(client, userId).finally(() => this.asking.delete(userId));
      this.asking.set(userId, pending);
    }
    return pending;
  }

  private async ask(client: WebClient, userId: string): Promise<UserPlace> {
    try {
      const res = await client.users.info({ user: userId, include_locale: true });
      const u = res.user as { tz?: string; locale?: string } | undefined;
      const country = (u?.tz ? countryFromTimeZone(u.tz) : undefined) ?? (u?.locale ? countryFromLocale(u.locale) : undefined);
      const where: UserPlace = { ...(country ? { country } : {}), ...(u?.tz && isKnownZone(u.tz) ? { timeZone: u.tz } : {}) };
      if (this.known.size >= MAX_USERS) this.known.delete(this.known.keys().next().value!);
      this.known.set(userId, { where, at: this.now() });
      return where;
    } catch (err) {
      // A missing users:read scope or a Slack hiccup costs the hint, never the message.
      this.logger.warn({ err: (err as { data?: { error?: string } }).data?.error ?? errorCode(err) }, 'Slack users.info failed; crisis lines by the person\'s setting or the default');
      return {};
    }
  }
}

/** Where a Slack user is: a country code and an IANA time zone, each when Slack says. */
export interface UserPlace {
  country?: string;
  timeZone?: string;
}

function isKnownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
