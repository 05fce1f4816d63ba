/**
 * The funnel as an SVG chart: grouped horizontal bars, one group per substate,
 * one bar per arm, length = share of that arm's sessions. Hand-written SVG: a
 * PNG would need a native canvas dependency, and a browser opens SVG as is.
 */
import { pct, type FunnelSeries } from './report.js';

const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const BAR = 16;
const BAR_GAP = 3;
const GROUP_GAP = 14;
const PLOT = 420;
const CHAR = 7; // approximate width of one character at font-size 12

/** Escapes text for XML content and attribute values. */
export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

export function funnelSvg(o: { title: string; substates: string[]; series: FunnelSeries[] }): string {
  const labelWidth = Math.max(80, ...o.substates.map((s) => s.length * CHAR)) + 16;
  const valueWidth = Math.max(...o.series.map((s) => (s.name.length + 16) * CHAR), 120);
  const width = Math.max(labelWidth + PLOT + valueWidth, o.title.length * 9 + 24); // 9: a character at the title's font-size 16
  const legendTop = 44;
  const legendRows = o.series.length;
  const top = legendTop + legendRows * 18 + 12;
  const groupHeight = Math.max(1, o.series.length) * (BAR + BAR_GAP) - BAR_GAP;
  const height = top + o.substates.length * (groupHeight + GROUP_GAP) + 10;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="24" font-size="16" font-weight="bold">${xmlEscape(o.title)}</text>`,
  ];
  o.series.forEach((s, i) => {
    const y = legendTop + i * 18;
    out.push(`<rect x="12" y="${y}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`);
    out.push(`<text x="30" y="${y + 10}">${xmlEscape(s.name)} (${s.sessions} sessions)</text>`);
  });
  o.substates.forEach((id, g) => {
    const gy = top + g * (groupHeight + GROUP_GAP);
    out.push(`<text x="${labelWidth - 8}" y="${gy + groupHeight / 2 + 4}" text-anchor="end">${xmlEscape(id)}</text>`);
    o.series.forEach((s, i) => {
      const n = s.reached[id] ?? 0;
      const share = s.sessions > 0 ? Math.min(1, n / s.sessions) : 0;
      const y = gy + i * (BAR + BAR_GAP);
      const w = Math.round(share * PLOT);
      out.push(`<rect x="${labelWidth}" y="${y}" width="${w}" height="${BAR}" fill="${COLORS[i % COLORS.length]}"><title>${xmlEscape(`${s.name} ${id}: ${n}`)}</title></rect>`);
      out.push(`<text x="${labelWidth + w + 6}" y="${y + BAR - 4}">${xmlEscape(`${s.name}: ${n} (${pct(n, s.sessions)})`)}</text>`);
    });
  });
  out.push(`<line x1="${labelWidth}" y1="${top - 4}" x2="${labelWidth}" y2="${height - 10}" stroke="#888888"/>`);
  out.push('</svg>');
  return `<?xml version="1.0" encoding="UTF-8"?>\n${out.join('\n')}\n`;
}
