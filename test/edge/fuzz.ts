/**
 * Seeded generators of malformed Slack requests for the edge fuzz tests. Every string they
 * invent carries `mark`, so a log line that quotes any part of a body can be found.
 */
import { mulberry32 } from '../prng.js';

/** The fuzz's PRNG (the seed is printed with a failure). */
export const rng = mulberry32;

export interface Mutant {
  raw: string;
  contentType: string;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

function junk(r: () => number, mark: string, depth = 0): Json {
  const kinds = depth > 2 ? 9 : 12;
  switch (Math.floor(r() * kinds)) {
    case 0: return null;
    case 1: return Math.floor(r() * 2 ** 31) * (r() < 0.5 ? -1 : 1);
    case 2: return pick(r, [0, -1, 1e308, 0.5, 2 ** 53 + 1]);
    case 3: return r() < 0.5;
    case 4: return `${mark}${pick(r, ['', ' ', '\u0000', '\u202e', '💥', '<@U123>', '{}', '\\', '"', '%00', '\r\n', 'ñ̃'])}${Math.floor(r() * 1e6)}`;
    case 5: return `${pick(r, ['D', 'C', 'G', 'U', 'T', 'd', 'Ev', ''])}${mark.toUpperCase()}${'9'.repeat(Math.floor(r() * 40))}`;
    case 6: return `${mark}${'A'.repeat(Math.floor(r() * 60_000))}`; // long, but under the body limit
    case 7: return `${Math.floor(r() * 1e10)}.${mark}`;
    case 8: return '';
    case 9: return [junk(r, mark, depth + 1), junk(r, mark, depth + 1)];
    case 10: return { [mark]: junk(r, mark, depth + 1), type: junk(r, mark, depth + 1) };
    default: return [];
  }
}

let counter = 0;
const ts = () => `1700000001.${String(++counter % 1e6).padStart(6, '0')}`;

function bases(mark: string): Array<Record<string, Json>> {
  const envelope = (event: Record<string, Json>): Record<string, Json> => ({ token: 'x', team_id: 'T0TEAM', api_app_id: 'A0APP', type: 'event_callback', event_id: `Ev${Math.floor(Math.random() * 1e9)}`, event_time: 1700000000, event: { team: 'T0TEAM', ...event } });
  return [
    envelope({ type: 'message', channel: 'D0DM', channel_type: 'im', user: 'U0PERSON', text: `hello ${mark}`, ts: ts() }),
    envelope({ type: 'app_mention', channel: 'C0CHAN', user: 'U0PERSON', text: `<@UBOT0001> hi ${mark}`, ts: ts() }),
    envelope({ type: 'message', channel: 'C0CHAN', channel_type: 'channel', user: 'U0PERSON', text: `more ${mark}`, ts: ts(), thread_ts: ts() }),
    envelope({ type: 'message', channel: 'D0DM', channel_type: 'im', user: 'U0PERSON', text: `file ${mark}`, ts: ts(), subtype: 'file_share' }),
    envelope({ type: 'app_home_opened', user: 'U0PERSON', tab: 'home', channel: 'D0DM' }),
    { type: 'url_verification', challenge: `c${mark}`, token: 'x' },
  ];
}

/** Paths into a body: top-level keys and the event's keys. */
function paths(body: Record<string, Json>): string[][] {
  const out: string[][] = Object.keys(body).map((k) => [k]);
  const ev = body.event;
  if (ev && typeof ev === 'object' && !Array.isArray(ev)) for (const k of Object.keys(ev)) out.push(['event', k]);
  return out;
}

function mutateJson(r: () => number, mark: string): Record<string, Json> {
  const body = structuredClone(pick(r, bases(mark)));
  const edits = 1 + Math.floor(r() * 3);
  for (let i = 0; i < edits; i++) {
    const p = pick(r, [...paths(body), ['event', `${mark}extra`], [`${mark}top`]]);
    let target: Record<string, Json> = body;
    for (const k of p.slice(0, -1)) {
      const next = target[k];
      if (!next || typeof next !== 'object' || Array.isArray(next)) {
        target = {};
        break;
      }
      target = next as Record<string, Json>;
    }
    const key = p[p.length - 1]!;
    if (r() < 0.2) delete target[key];
    else target[key] = junk(r, mark);
  }
  return body;
}

const COMMAND_FIELDS = ['command', 'text', 'team_id', 'channel_id', 'user_id', 'response_url', 'trigger_id'];

function mutateForm(r: () => number, mark: string): string {
  const fields: Array<[string, string]> = [
    ['command', '/trt'],
    ['text', `help ${mark}`],
    ['team_id', 'T0TEAM'],
    ['channel_id', 'D0DM'],
    ['user_id', 'U0PERSON'],
    ['response_url', 'https://hooks.slack.com/commands/x'],
    ['trigger_id', 't'],
  ];
  const edits = 1 + Math.floor(r() * 3);
  for (let i = 0; i < edits; i++) {
    const choice = Math.floor(r() * 6);
    const k = pick(r, COMMAND_FIELDS);
    const v = String(junk(r, mark) ?? `${mark}null`).slice(0, 5000);
    if (choice === 0) fields.splice(fields.findIndex(([f]) => f === k), 1);
    else if (choice === 1) fields.push([k, v]); // a repeated field
    else if (choice === 2) fields.push(['payload', pick(r, ['null', '[]', '"x"', `{"type":"${mark}"}`, `{${mark}`, JSON.stringify({ type: 'block_actions', user: { id: mark } })])]);
    else if (choice === 3) fields.push([`${mark}x`, v]);
    else {
      const at = fields.findIndex(([f]) => f === k);
      if (at >= 0) fields[at] = [k, k === 'command' ? pick(r, ['/other', '', '/TRT', `/${mark}`, v]) : v];
    }
  }
  return new URLSearchParams(fields).toString();
}

function wholeJunk(r: () => number, mark: string): Mutant {
  const valid = JSON.stringify(pick(r, bases(mark)));
  const raw = pick(r, [
    'null', '[]', '{}', '0', '"str"', 'true', '',
    valid.slice(0, Math.floor(r() * valid.length)), // truncated
    `\ufeff${valid}`,
    JSON.stringify([pick(r, bases(mark))]),
    JSON.stringify({ type: 'event_callback', event: null, event_id: 'Ev1', team_id: 'T0TEAM' }),
    JSON.stringify({ type: 'event_callback', event: 42, team_id: 'T0TEAM' }),
    JSON.stringify({ type: 'event_callback', event: `${mark}`, team_id: 'T0TEAM' }),
    JSON.stringify({ type: 'event_callback', event: [], team_id: 'T0TEAM' }),
    JSON.stringify({ type: mark }),
    JSON.stringify({ type: null, challenge: mark }),
  ]);
  const form = r() < 0.15;
  return form ? { raw: `payload=${encodeURIComponent(raw)}`, contentType: 'application/x-www-form-urlencoded' } : { raw, contentType: pick(r, ['application/json', 'application/json; charset=utf-8', 'application/JSON']) };
}

/** `count` malformed requests, deterministic for a seed. */
export function mutants(r: () => number, mark: string, count: number): Mutant[] {
  const out: Mutant[] = [];
  for (let i = 0; i < count; i++) {
    const roll = r();
    if (roll < 0.6) out.push({ raw: JSON.stringify(mutateJson(r, mark)), contentType: 'application/json' });
    else if (roll < 0.85) out.push({ raw: mutateForm(r, mark), contentType: 'application/x-www-form-urlencoded' });
    else out.push(wholeJunk(r, mark));
  }
  return out;
}
