/**
 * Puts the crisis lines of the person's country ahead of the generic ones in a fixed, reviewed
 * text (the crisis response, the check-in, `help`). The texts' own wording never changes: the
 * country's lines (safety_protocol.json `resources`, reviewed with their sources) are inserted
 * whole, and the generic lines, findahelpline.com among them, still follow. Pure functions.
 */
import type { CrisisResources } from '../config/safety-schema.js';
import { fillSlots } from '../text/template.js';

const BULLET = '•';
/** The generic fallback every crisis text carries; its paragraph is where the lines go. */
const FALLBACK = /findahelpline/i;

function entryOf(resources: CrisisResources, code: string | undefined) {
  // Object.hasOwn: a code comes from a person or a platform; 'constructor' is not a country.
  return code !== undefined && Object.hasOwn(resources.countries, code) ? resources.countries[code] : undefined;
}

/** The codes with configured lines, alphabetical (for `settings` and its "accepted" line). */
export function supportedCountries(resources: CrisisResources): string[] {
  return Object.keys(resources.countries).sort();
}

/** The country's name as the person reads it ("Australia"), or undefined when it has no lines. */
export function countryName(resources: CrisisResources, code: string | undefined): string | undefined {
  return entryOf(resources, code)?.name;
}

/** The country's bullet lines and, last, its emergency number; undefined when it has none. */
export function countryLines(resources: CrisisResources, code: string | undefined): string[] | undefined {
  const entry = entryOf(resources, code);
  if (!entry) return undefined;
  return [...entry.lines, fillSlots(resources.emergency_line, { country: entry.label ?? entry.name, emergency: entry.emergency })];
}

/** The country's lines as one block ('' when it has none), e.g. for the `settings` reply. */
export function countryBlock(resources: CrisisResources, code: string | undefined): string {
  return (countryLines(resources, code) ?? []).join('\n');
}

/**
 * `text` with the country's lines first. Where they go:
 * - the paragraph that carries the generic lines is the last one naming findahelpline.com (the
 *   crisis response's and check-in's only paragraph; `help`'s last, after its command list,
 *   whose bullets are not crisis lines), else the last paragraph;
 * - if that paragraph has bullet lines, the country's lines go just before its first bullet, and a
 *   generic bullet that says exactly what a country line says is dropped (no "US: 988" twice);
 * - otherwise (`help`'s one-line "If you are in crisis: ..."), they go as their own paragraph
 *   just before it.
 * An unknown or undefined country returns `text` itself, unchanged; an empty text returns the block.
 */
export function withCountryLines(text: string, resources: CrisisResources, country: string | undefined): string {
  const lines = countryLines(resources, country);
  if (!lines) return text;
  if (text.trim() === '') return lines.join('\n');
  const paragraphs = text.split('\n\n');
  let target = paragraphs.findLastIndex((p) => FALLBACK.test(p));
  if (target < 0) target = paragraphs.length - 1;
  const rows = paragraphs[target]!.split('\n');
  const first = rows.findIndex((row) => row.startsWith(BULLET));
  if (first < 0) {
    paragraphs.splice(target, 0, lines.join('\n'));
  } else {
    const own = new Set(lines);
    const rest = rows.slice(first).filter((row) => !(row.startsWith(BULLET) && own.has(row)));
    paragraphs[target] = [...rows.slice(0, first), ...lines, ...rest].join('\n');
  }
  return paragraphs.join('\n\n');
}
