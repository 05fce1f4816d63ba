/** The next local HH:MM in a zone: ahead of and behind UTC, across DST changes (gap and overlap). */
import { describe, expect, it } from 'vitest';
import { localTime, nextOccurrence, offsetAt } from '../../src/checkins/next-occurrence.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('nextOccurrence', () => {
  it('is later today when the time has not come yet, else tomorrow', () => {
    expect(iso(nextOccurrence('18:30', 'Europe/London', Date.parse('2025-01-10T12:00:00Z')))).toBe('2025-01-10T18:30:00.000Z');
    expect(iso(nextOccurrence('18:30', 'Europe/London', Date.parse('2025-01-10T18:30:00Z')))).toBe('2025-01-11T18:30:00.000Z');
  });

  it('keeps the local time across the spring change (London: GMT to BST)', () => {
    // Clocks went forward at 01:00 UTC on 30 March 2025: 18:30 local is 18:30 UTC the day before, 17:30 UTC after.
    const first = nextOccurrence('18:30', 'Europe/London', Date.parse('2025-03-29T12:00:00Z'));
    expect(iso(first)).toBe('2025-03-29T18:30:00.000Z');
    expect(iso(nextOccurrence('18:30', 'Europe/London', first))).toBe('2025-03-30T17:30:00.000Z');
    expect(nextOccurrence('18:30', 'Europe/London', first) - first).toBe(23 * 3_600_000);
  });

  it('takes a time the clocks skip as the instant they jump to, and a repeated time once, at its first coming', () => {
    // 01:30 did not exist in London on 30 March 2025: it is 02:30 BST, 01:30 UTC.
    expect(iso(nextOccurrence('01:30', 'Europe/London', Date.parse('2025-03-30T00:00:00Z')))).toBe('2025-03-30T01:30:00.000Z');
    // 01:30 came twice on 26 October 2025: first in BST (00:30 UTC); the next one is the day after.
    const fall = nextOccurrence('01:30', 'Europe/London', Date.parse('2025-10-25T23:00:00Z'));
    expect(iso(fall)).toBe('2025-10-26T00:30:00.000Z');
    expect(iso(nextOccurrence('01:30', 'Europe/London', fall))).toBe('2025-10-27T01:30:00.000Z');
  });

  it('works ahead of UTC (Tokyo, Kolkata) and behind it (Los Angeles, across its spring change)', () => {
    // 09:00 in Tokyo on 1 January: 08:00 has passed there, so the next is 08:00 on the 2nd (23:00 UTC on the 1st).
    expect(iso(nextOccurrence('08:00', 'Asia/Tokyo', Date.parse('2025-01-01T00:00:00Z')))).toBe('2025-01-01T23:00:00.000Z');
    expect(iso(nextOccurrence('18:30', 'Asia/Kolkata', Date.parse('2025-01-01T00:00:00Z')))).toBe('2025-01-01T13:00:00.000Z');
    // 17:00 on 30 June in Los Angeles (PDT, UTC-7): 18:30 local is 01:30 UTC on 1 July.
    expect(iso(nextOccurrence('18:30', 'America/Los_Angeles', Date.parse('2025-07-01T00:00:00Z')))).toBe('2025-07-01T01:30:00.000Z');
    // Across 9 March 2025 (PST to PDT): 08:00 local is 16:00 UTC before, 15:00 UTC after.
    const before = nextOccurrence('08:00', 'America/Los_Angeles', Date.parse('2025-03-08T12:00:00Z'));
    expect(iso(before)).toBe('2025-03-08T16:00:00.000Z');
    expect(iso(nextOccurrence('08:00', 'America/Los_Angeles', before))).toBe('2025-03-09T15:00:00.000Z');
  });

  it('crosses a date line day correctly (Auckland, whose local date is ahead of UTC)', () => {
    // 20:00 UTC on 1 Jan is 09:00 on 2 Jan in Auckland (NZDT, UTC+13): 07:30 there has passed; the next is 3 Jan 07:30 = 2 Jan 18:30 UTC.
    expect(iso(nextOccurrence('07:30', 'Pacific/Auckland', Date.parse('2025-01-01T20:00:00Z')))).toBe('2025-01-02T18:30:00.000Z');
  });
});

describe('localTime and offsetAt', () => {
  it('read the wall clock and the offset in a zone', () => {
    expect(localTime(Date.parse('2025-07-01T21:15:00Z'), 'Europe/London')).toBe('22:15');
    expect(localTime(Date.parse('2025-07-01T21:15:00Z'), 'America/New_York')).toBe('17:15');
    expect(offsetAt(Date.parse('2025-07-01T00:00:00Z'), 'Europe/London')).toBe(3_600_000);
    expect(offsetAt(Date.parse('2025-07-01T00:00:00Z'), 'America/Los_Angeles')).toBe(-7 * 3_600_000);
  });
});
