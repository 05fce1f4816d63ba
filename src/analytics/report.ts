/**
 * Turns counter rows into what `npm run analytics` prints: totals, a plain-text
 * table, and the funnel (substates in the navigation's order, each with its
 * count and share of sessions). Pure functions, so the CLI stays thin.
 */
import { COUNT_FIELDS, REACHED_PREFIX } from './analytics.js';
import type { CountsRow } from './reader.js';

/** The part of the navigation config the funnel order needs (structural, so this module does not depend on config loading). */
export interface NavigationLike {
  start: string;
  stages: Record<string, { substates: Record<string, { next?: string | undefined }> }>;
}

/** One line of the funnel chart or table: an arm (or the tenant) with its sessions and substates reached. */
export interface FunnelSeries {
  name: string;
  sessions: number;
  reached: Record<string, number>;
}

export function addCounts(into: Record<string, number>, counts: Record<string, number>): Record<string, number> {
  for (const [f, n] of Object.entries(counts)) into[f] = (into[f] ?? 0) + n;
  return into;
}

/** Sums rows per group (e.g. per arm), groups in first-seen order. */
export function totalsBy(rows: CountsRow[], groupOf: (r: CountsRow) => string): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const r of rows) {
    const g = groupOf(r);
    addCounts(out.get(g) ?? out.set(g, {}).get(g)!, r.counts);
  }
  return out;
}

export function seriesOf(totals: Map<string, Record<string, number>>): FunnelSeries[] {
  return [...totals].map(([name, counts]) => ({
    name,
    sessions: counts.sessions ?? 0,
    reached: Object.fromEntries(
      Object.entries(counts)
        .filter(([f]) => f.startsWith(REACHED_PREFIX))
        .map(([f, n]) => [f.slice(REACHED_PREFIX.length), n]),
    ),
  }));
}

/**
 * The funnel's substates: the navigation path (start, then each `next`), then
 * any other substate that was reached (an older config, an interrupt's goto),
 * most reached first.
 */
export function funnelOrder(nav: NavigationLike | undefined, series: FunnelSeries[]): string[] {
  const order: string[] = [];
  if (nav) {
    const next = new Map<string, string | undefined>();
    for (const stage of Object.values(nav.stages)) for (const [id, s] of Object.entries(stage.substates)) next.set(id, s.next);
    // The seen-set stops a config with a loop from spinning forever.
    for (let id: string | undefined = nav.start; id !== undefined && next.has(id) && !order.includes(id); id = next.get(id)) order.push(id);
  }
  const others = new Map<string, number>();
  for (const s of series) for (const [id, n] of Object.entries(s.reached)) if (!order.includes(id)) others.set(id, (others.get(id) ?? 0) + n);
  return [...order, ...[...others].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([id]) => id)];
}

/** A share as text: `40%`, or `-` when there is nothing to divide by. */
export function pct(n: number, of: number): string {
  return of > 0 ? `${Math.round((n / of) * 100)}%` : '-';
}

/** A plain-text table; the first column is left-aligned, the others (numbers) right-aligned. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The count columns of one row. */
export function countCells(counts: Record<string, number>): string[] {
  return COUNT_FIELDS.map((f) => String(counts[f] ?? 0));
}

/** The funnel as a table: one row per substate, per series `count (share of sessions)`. */
export function renderFunnel(substates: string[], series: FunnelSeries[]): string {
  const headers = ['substate', ...series.map((s) => s.name)];
  const rows = [
    ['sessions', ...series.map((s) => String(s.sessions))],
    ...substates.map((id) => [id, ...series.map((s) => `${s.reached[id] ?? 0} (${pct(s.reached[id] ?? 0, s.sessions)})`)]),
  ];
  return renderTable(headers, rows);
}
