/**
 * Wall-clock math for daily check-ins, with Intl only (no date library): the next instant a
 * local `HH:MM` comes round in an IANA zone, across DST changes, and the local time of an
 * instant. A time that does not exist that day (the spring-forward gap) is taken as the
 * instant the clocks jump to; a time that comes twice (fall back) as its first coming.
 */

const formats = new Map<string, Intl.DateTimeFormat>();

function format(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formats.set(zone, f);
  }
  return f;
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The local calendar date and time of `ms` in `zone`. */
export function wallTime(ms: number, zone: string): Wall {
  const parts: Record<string, number> = {};
  for (const p of format(zone).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour! % 24, minute: parts.minute!, second: parts.second! };
}

/** `zone`'s offset from UTC at the instant `ms`, in ms (London in summer: +3,600,000). */
export function offsetAt(ms: number, zone: string): number {
  const w = wallTime(ms, zone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant a local wall time (given as if it were UTC ms) happens in `zone`. */
function fromWall(wallMs: number, zone: string): number {
  // The offsets either side of that day: the wall time happens at wall - offset for an offset in force then.
  const before = offsetAt(wallMs - 12 * 3_600_000, zone);
  const after = offsetAt(wallMs + 12 * 3_600_000, zone);
  const fits = [wallMs - before, wallMs - after].filter((t) => offsetAt(t, zone) === wallMs - t);
  if (fits.length > 0) return Math.min(...fits);
  // In the gap (clocks went forward past it): the instant they jumped, shown as the later wall time.
  return wallMs - Math.min(before, after);
}

/** The first instant strictly after `afterMs` at which it is `time` (`HH:MM`) in `zone`. */
export function nextOccurrence(time: string, zone: string, afterMs: number): number {
  const [h, m] = time.split(':').map(Number) as [number, number];
  const today = wallTime(afterMs, zone);
  for (let i = 0; i < 3; i++) {
    const at = fromWall(Date.UTC(today.year, today.month - 1, today.day + i, h, m), zone);
    if (at > afterMs) return at;
  }
  throw new Error('no next occurrence within three days'); // unreachable for a valid zone
}

/** The local time of `ms` in `zone` as `HH:MM`. */
export function localTime(ms: number, zone: string): string {
  const w = wallTime(ms, zone);
  return `${String(w.hour).padStart(2, '0')}:${String(w.minute).padStart(2, '0')}`;
}
