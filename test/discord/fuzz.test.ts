/**
 * Fuzz: thousands of generated malformed MESSAGE_CREATE and INTERACTION_CREATE dispatches
 * through the fake gateway to the real discord.js Client with the real listeners, real
 * Redis marks and queue, and a worker. Seeded (DISCORD_FUZZ_SEED; printed on failure).
 *
 * Every generated case knows what must happen to it:
 *   drop     a field the adapter reads is broken: exactly one drop line (zod reason), with
 *            the id when the id is a snowflake; nothing queued, no marks, no engine turn
 *   ignore   a valid shape the bot does not act on (a bot, a system message, chatter): no line
 *   junk     junk in fields the adapter does not read (some of which discord.js throws on):
 *            at most one line, `discord.js: <code>`; never queued
 * Interactions: a broken envelope is dropped unanswered; a broken /trt is dropped and
 * answered; every other interaction is answered exactly once, the way its type wants.
 * Nothing of any body (every generated string carries the marker "zqx") reaches a log line.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { BOT_ID, GUILD_ID, TEXT_CHANNEL_ID, botUser, buttonPress, autocomplete, interaction, message, modalSubmit, nextId, person, slashCommand } from '../fakes/discord.js';
import { DM_CHANNEL, startHarness, waitUntil, type Harness, type LogLine } from './edge-harness.js';
import { mulberry32 } from '../prng.js';

const given = Number.parseInt(process.env.DISCORD_FUZZ_SEED ?? '', 10);
const SEED = Number.isNaN(given) ? 0x5eed_2024 : given;
const MESSAGES = 2000;
const INTERACTIONS = 400;
const MARK = 'zqx';
const MB = 1 << 20;

/** Seeded choices over mulberry32 (test/prng.ts). */
class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const digits = (r: Rng, n: number) => Array.from({ length: n }, (_, i) => String(i === 0 ? 1 + r.int(9) : r.int(10))).join('');

/** Unicode junk: RTL overrides, zero-width, combining marks, lone surrogates, NUL, emoji, other scripts' digits. */
function unicodeJunk(r: Rng): string {
  const bits = ['\u202e', '\u200b', '\u0301\u0301\u0301', '\ud800', '\udfff', '\u0000', '🙂', '👩🏽‍🚒', '١٢٣', '１２３', '\ufeff', '\u2028', 'ǅ', '𝔷', '\\', '"', '\n', '<@' + BOT_ID + '>'];
  let s = MARK;
  for (let i = 0, n = 1 + r.int(12); i < n; i++) s += r.pick(bits);
  return s;
}

/** A string that is text from the body: it always carries the marker. */
function junkText(r: Rng): string {
  switch (r.int(6)) {
    case 0:
      return `${MARK}${digits(r, 1 + r.int(30))}`;
    case 1:
      return unicodeJunk(r);
    case 2:
      return `${MARK} I want to end my life ${r.int(1e6)}`;
    case 3:
      return r.chance(0.15) ? MARK + 'A'.repeat(MB) : MARK + 'x'.repeat(r.int(5000));
    case 4:
      return `${MARK}${JSON.stringify({ nested: r.int(100) })}`;
    default:
      return `${MARK}-${r.next().toString(36)}`;
  }
}

/** Deeply nested objects and arrays with junk leaves (keys that mean something to JS included). */
function nested(r: Rng, depth = 1 + r.int(25)): unknown {
  if (depth <= 0) return r.pick([junkText(r), r.int(1000) - 500, null, true, [], {}]);
  const key = r.pick(['a', '__proto__', 'constructor', 'id', 'toString', `${MARK}k`]);
  return r.chance(0.5) ? [nested(r, depth - 1), junkText(r)] : { [key]: nested(r, depth - 1), [`${MARK}${depth}`]: junkText(r) };
}

/** Any value at all (for fields the adapter does not read). */
function anyJunk(r: Rng): unknown {
  return r.pick([
    () => null,
    () => junkText(r),
    () => r.int(2 ** 31) - 2 ** 30,
    () => -1,
    () => 1.5,
    () => 1e308,
    () => true,
    () => [],
    () => [null],
    () => [junkText(r), 5],
    () => ({}),
    () => ({ id: junkText(r) }),
    () => nested(r),
  ])();
}

/** Ids that are not snowflakes (none is 17-20 ASCII digits). */
function badId(r: Rng): unknown {
  return r.pick([
    () => digits(r, 1 + r.int(16)), // too short
    () => digits(r, 21 + r.int(10)), // too long
    () => (r.chance(0.1) ? '1'.repeat(MB) : digits(r, 100)), // huge
    () => `${MARK}${digits(r, 15)}`,
    () => '１２３４５６７８９０１２３４５６７８', // fullwidth digits
    () => '١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨', // Arabic-Indic digits
    () => `-${digits(r, 18)}`,
    () => ` ${digits(r, 18)}`,
    () => `${digits(r, 18)}\n`,
    () => `${digits(r, 18)}.5`,
    () => `0x${digits(r, 16)}`,
    () => '',
    () => unicodeJunk(r),
    () => Number(digits(r, 18)),
    () => -1,
    () => 0,
    () => 1.5,
    () => null,
    () => true,
    () => [],
    () => [digits(r, 18)],
    () => ({ id: digits(r, 18) }),
    () => nested(r),
  ])();
}

/** Values that are no message type (an integer from 0 to 255). */
const badType = (r: Rng): unknown => r.pick([null, 'text', '0', -1, 1.5, 256, 2 ** 60, 1e308, {}, [0], true, MARK, -(2 ** 31)]);
const badFlags = (r: Rng): unknown => r.pick([null, 'x', '4', -1, 1.5, 2 ** 60, {}, [], false, MARK]);

type Body = Record<string, unknown>;
interface Case {
  kind: 'drop' | 'ignore' | 'junk';
  d: unknown;
  /** The id, when it is still a snowflake (drop lines carry it then). */
  id: string | undefined;
}

const dmBase = (r: Rng): Body => message({ channel_id: `6000000000000${digits(r, 5)}`, content: `${MARK} hello ${r.int(1e6)}`, author: person(`4000000000000${digits(r, 5)}`) });
const mentionBase = (r: Rng): Body =>
  message({ channel_id: TEXT_CHANNEL_ID, guild_id: GUILD_ID, content: `<@${BOT_ID}> ${MARK} hi ${r.int(1e6)}`, author: person(`4000000000000${digits(r, 5)}`), mentions: [botUser()] });
const chatterBase = (r: Rng): Body => message({ channel_id: TEXT_CHANNEL_ID, guild_id: GUILD_ID, content: `${MARK} just chatting ${r.int(1e6)}`, author: person(`4000000000000${digits(r, 5)}`) });

/** One broken field the adapter reads (each branch makes the field invalid, never valid). */
function breakField(r: Rng, b: Body): void {
  const field = r.pick(['id', 'channel_id', 'guild_id', 'author', 'author', 'content', 'content', 'type', 'flags', 'channel_type', 'mentions']);
  const drop = () => delete b[field];
  switch (field) {
    case 'id':
    case 'channel_id':
      if (r.chance(0.2)) drop();
      else b[field] = badId(r);
      return;
    case 'guild_id':
      b.guild_id = r.chance(0.2) ? null : badId(r);
      return;
    case 'author': {
      const good = person(`4000000000000${digits(r, 5)}`);
      b.author = r.pick([
        () => undefined,
        () => null,
        () => junkText(r),
        () => 42,
        () => [good],
        () => ({}),
        () => ({ ...good, id: badId(r) }),
        () => ({ username: junkText(r) }),
        () => ({ ...good, bot: r.pick(['true', 1, null, {}, MARK]) }),
        () => ({ ...good, username: r.pick([MARK + 'u'.repeat(200), 5, null, { n: MARK }]) }),
      ])();
      if (b.author === undefined) delete b.author;
      return;
    }
    case 'content':
      b.content = r.pick([
        () => undefined,
        () => null,
        () => 7,
        () => false,
        () => ({ text: junkText(r) }),
        () => [junkText(r)],
        () => nested(r),
        () => MARK + 'a'.repeat(4001), // one over Discord's limit
        () => MARK + '🙂'.repeat(4001),
        () => MARK + 'a'.repeat(MB),
      ])();
      if (b.content === undefined) delete b.content;
      return;
    case 'type':
      if (r.chance(0.2)) drop();
      else b.type = badType(r);
      return;
    case 'flags':
      b.flags = badFlags(r);
      return;
    case 'channel_type':
      b.channel_type = r.pick([null, 'dm', -1, 256, 1.5, {}, [1], MARK]);
      return;
    case 'mentions':
      b.mentions = r.pick([
        () => null,
        () => junkText(r),
        () => ({ id: BOT_ID }),
        () => [null],
        () => [1],
        () => [{}],
        () => [{ id: badId(r) }],
        () => Array.from({ length: 501 }, () => ({ id: BOT_ID })),
      ])();
      return;
  }
}

/** Fields discord.js reads (and may throw on) that the adapter does not. */
const UNREAD = ['embeds', 'attachments', 'components', 'sticker_items', 'stickers', 'poll', 'reactions', 'message_reference', 'referenced_message', 'interaction', 'interaction_metadata', 'thread', 'application', 'application_id', 'activity', 'call', 'message_snapshots', 'member', 'timestamp', 'edited_timestamp', 'tts', 'pinned', 'mention_roles', 'mention_channels', 'mention_everyone', 'nonce', 'webhook_id', 'role_subscription_data', 'resolved', 'position', `${MARK}_unknown`];

function messageCase(r: Rng): Case {
  const roll = r.next();
  if (roll < 0.04) {
    // The whole body is not an object.
    return { kind: 'drop', d: r.pick([null, 5, junkText(r), [dmBase(r)], true]), id: undefined };
  }
  if (roll < 0.8) {
    const b = r.chance(0.65) ? dmBase(r) : mentionBase(r);
    for (let i = 0, n = 1 + (r.chance(0.3) ? r.int(3) : 0); i < n; i++) breakField(r, b);
    if (r.chance(0.3)) b[r.pick(UNREAD)] = anyJunk(r); // junk elsewhere too: the shape check comes first
    return { kind: 'drop', d: b, id: typeof b.id === 'string' && /^\d{17,20}$/.test(b.id) ? b.id : undefined };
  }
  if (roll < 0.9) {
    // Well-formed, but not the bot's to answer.
    const b = r.chance(0.5) ? dmBase(r) : mentionBase(r);
    const how = r.int(3);
    if (how === 0) b.author = { ...(b.author as Body), bot: true };
    else if (how === 1) b.type = r.pick([1, 2, 3, 6, 7, 8, 18, 20, 21, 23, 24, 46, 99, 255]); // system types, and ones not yet known
    const c = how === 2 ? chatterBase(r) : b; // chatter in a channel, no mention
    if (r.chance(0.5)) c.content = r.chance(0.5) ? unicodeJunk(r) : `${MARK}${'🙂'.repeat(r.int(3990))}`;
    return { kind: 'ignore', d: c, id: c.id as string };
  }
  // Junk where the adapter does not look, in messages it would not act on anyway.
  const b = r.chance(0.5) ? chatterBase(r) : { ...dmBase(r), author: { ...person(`4000000000000${digits(r, 5)}`), bot: true } };
  for (let i = 0, n = 1 + r.int(3); i < n; i++) b[r.pick(UNREAD)] = anyJunk(r);
  return { kind: 'junk', d: b, id: b.id as string };
}

interface ICase {
  kind: 'envelope' | 'trt' | 'other' | 'broken';
  d: Body | unknown;
  id: string | undefined;
  /** The callback type expected (one answer), or none. */
  answer: number | undefined;
}

const ANSWER_FOR: Record<number, number> = { 2: 4, 3: 6, 4: 8, 5: 4 };

function interactionCase(r: Rng): ICase {
  const inGuild = r.chance(0.4);
  const where = inGuild ? { channelId: TEXT_CHANNEL_ID, guildId: GUILD_ID } : { channelId: DM_CHANNEL };
  const roll = r.next();
  if (roll < 0.25) {
    const b: Body = slashCommand(r.pick(['help', 'status']), where);
    const field = r.pick(['id', 'application_id', 'type', 'token', 'token', 'body']);
    if (field === 'body') return { kind: 'envelope', d: r.pick([null, 3, junkText(r), [b]]), id: undefined, answer: undefined };
    if (field === 'type') b.type = r.pick([null, 'x', 0, -1, 1.5, 256, {}, MARK]);
    else if (field === 'token') b.token = r.pick(['', `${MARK} space`, `../${MARK}`, `${MARK}/x`, MARK + 't'.repeat(1001), MARK + 't'.repeat(MB), 5, null, unicodeJunk(r), ['t']]);
    else if (r.chance(0.2)) delete b[field];
    else b[field] = badId(r);
    return { kind: 'envelope', d: b, id: typeof b.id === 'string' && /^\d{17,20}$/.test(b.id) ? b.id : undefined, answer: undefined };
  }
  if (roll < 0.5) {
    const b: Body = slashCommand(r.pick(['help', 'status', 'reset', 'forget']), where);
    const data = b.data as Body;
    switch (r.int(9)) {
      case 0:
        data.type = r.pick([2, 3, 'x', null, 1.5]);
        break;
      case 1:
        data.options = [{ name: r.pick([`${MARK}erase`, 'HELP', 'help ', '', unicodeJunk(r)]), type: 1 }];
        break;
      case 2:
        data.options = r.pick([null, 'help', { name: 'help' }, [{ name: 'help', type: 1 }, { name: 'reset', type: 1 }], [{ name: 'help', type: 3 }], [null]]);
        break;
      case 3:
        if (r.chance(0.3)) delete b.channel_id;
        else b.channel_id = badId(r);
        break;
      case 4:
        b.guild_id = r.chance(0.2) ? null : badId(r);
        break;
      case 5:
        if (inGuild) delete b.member;
        else delete b.user;
        break;
      case 6:
        if (inGuild) b.member = { ...(b.member as Body), user: r.pick([null, {}, { id: badId(r) }, junkText(r)]) };
        else b.user = r.pick([null, {}, { id: badId(r) }, junkText(r), [person()]]);
        break;
      case 7:
        b.data = { ...data, name: 'trt', type: 1, options: nested(r) };
        break;
      default:
        if (inGuild) b.member = r.pick([null, junkText(r), { user: { id: badId(r) } }]);
        else b.user = { id: badId(r), username: junkText(r) };
    }
    return { kind: 'trt', d: b, id: b.id as string, answer: 4 };
  }
  if (roll < 0.8) {
    // Well-formed interactions that are not /trt: each is answered the way its type wants.
    const b: Body = r.pick([
      () => interaction(2, { id: nextId(), name: r.pick(['other', 'ping', `${MARK}cmd`]), type: 1, options: [{ name: 'q', type: 3, value: junkText(r) }] }, where),
      () => interaction(2, { id: nextId(), name: 'Inspect', type: 2, target_id: person().id, resolved: { users: { [person().id]: person() } } }, where),
      () => buttonPress(where, junkText(r).slice(0, 100)),
      () => interaction(3, { custom_id: `${MARK}pick`, component_type: 3, values: [junkText(r).slice(0, 100)] }, where),
      () => autocomplete(where, r.pick(['trt', 'other'])),
      () => modalSubmit(where),
    ])();
    return { kind: 'other', d: b, id: b.id as string, answer: ANSWER_FOR[b.type as number] };
  }
  // A usable envelope around junk discord.js reads: answered all the same (by the guard, if discord.js throws).
  const b: Body = r.pick([() => interaction(2, { id: nextId(), name: 'other', type: 1 }, where), () => buttonPress(where), () => autocomplete(where, 'other'), () => modalSubmit(where)])();
  const field = r.pick(['entitlements', 'data', 'channel', 'channel_id', 'guild_id', 'member', 'user', 'message', 'locale', 'app_permissions', 'authorizing_integration_owners', 'context', 'guild', `${MARK}_x`]);
  b[field] = field === 'channel_id' || field === 'guild_id' ? badId(r) : anyJunk(r);
  if (field === 'data' && b.type === 2 && (b.data as Body | null)?.name === 'trt') b.data = null; // never a /trt here
  return { kind: 'broken', d: b, id: b.id as string, answer: ANSWER_FOR[b.type as number] };
}

/** Every string a log line may carry: ids, session ids, codes, reasons, the fixed messages. */
function checkLine(line: LogLine): string | undefined {
  if (line.text.includes(MARK)) return 'a body fragment (marker)';
  if (line.text.length > 400) return `a line of ${line.text.length} characters`;
  for (const [key, value] of Object.entries(line.fields)) {
    if (typeof value === 'number' || typeof value === 'boolean') continue;
    if (typeof value !== 'string') return `${key} is a ${typeof value}`;
    if (key === 'reason' && /^([A-Za-z_]+|\d+)(\.([A-Za-z_]+|\d+))*: [a-z_]+$|^\(body\): [a-z_]+$|^discord\.js: [A-Za-z_0-9]+$/.test(value)) continue;
    if ((key === 'eventId' || key === 'channel') && /^\d{17,20}$/.test(value)) continue;
    if (key === 'sessionId' && /^discord:(dm|\d{17,20}):\d{17,20}$/.test(value)) continue;
    if (key === 'event' && /^[A-Z_]+$/.test(value)) continue;
    if (key === 'err' && /^[A-Za-z_0-9]+$/.test(value)) continue;
    if (key === 'shows' && /^(placeholder|preview|reply)$/.test(value)) continue; // the turn message's state, a closed set
    return `${key} is not an id or a code`;
  }
  return undefined;
}

describe(`Discord fuzz (seed ${SEED})`, () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('redis');
  });
  afterAll(async () => h?.stop());

  it(`${MESSAGES} malformed MESSAGE_CREATE and ${INTERACTIONS} INTERACTION_CREATE: no crash, nothing of them logged, none queued, every interaction answered`, async () => {
    onTestFailed(() => console.error(`Discord fuzz failed with seed ${SEED}; rerun with DISCORD_FUZZ_SEED=${SEED}`));
    const started = Date.now();
    const r = new Rng(SEED);
    const messages = Array.from({ length: MESSAGES }, () => messageCase(r));
    const interactions = Array.from({ length: INTERACTIONS }, () => interactionCase(r));
    expect(messages.filter((c) => c.kind === 'drop').length).toBeGreaterThan(MESSAGES / 2);

    for (const c of messages) h.fake.dispatch('MESSAGE_CREATE', c.d);
    for (const c of interactions) h.fake.dispatch('INTERACTION_CREATE', c.d);
    await h.waitReceived('MESSAGE_CREATE', MESSAGES, 25_000);
    await h.waitReceived('INTERACTION_CREATE', INTERACTIONS, 25_000);
    const answered = interactions.filter((c) => c.answer !== undefined);
    await waitUntil(`${answered.length} interaction answers`, () => answered.every((c) => h.fake.callbacksFor(c.id!).length > 0), 20_000);
    const after = await h.dmStillAnswered(); // a normal DM after all of it; also lets any late work land

    expect(h.crashes).toEqual([]);
    // Nothing queued but the DM after, no marks asked (Redis), no turn but that DM's.
    expect(h.enqueued.map((m) => m.id)).toEqual([after.id]);
    expect(h.markCalls).toEqual([]);
    expect(h.turns.map((t) => t.sessionId)).toEqual([`discord:dm:${after.channel}`]);

    const drops = h.drops();
    const byId = new Map<string, LogLine[]>();
    for (const l of drops) if (typeof l.fields.eventId === 'string') byId.set(l.fields.eventId, [...(byId.get(l.fields.eventId) ?? []), l]);
    const problems: string[] = [];
    const zodReason = /^(\(body\)|[A-Za-z_0-9.]+): [a-z_]+$/;
    for (const [i, c] of messages.entries()) {
      const lines = c.id ? (byId.get(c.id) ?? []) : [];
      if (c.kind === 'drop' && c.id && (lines.length !== 1 || !zodReason.test(String(lines[0]!.fields.reason)))) problems.push(`message ${i} (drop): ${lines.length} lines ${lines.map((l) => l.fields.reason).join(', ')}`);
      if (c.kind === 'ignore' && lines.length !== 0) problems.push(`message ${i} (ignore): ${lines.map((l) => l.fields.reason).join(', ')}`);
      if (c.kind === 'junk' && (lines.length > 1 || (lines[0] && !/^discord\.js: /.test(String(lines[0].fields.reason))))) problems.push(`message ${i} (junk): ${lines.map((l) => l.fields.reason).join(', ')}`);
    }
    for (const [i, c] of interactions.entries()) {
      const lines = c.id ? (byId.get(c.id) ?? []) : [];
      const answers = c.id ? h.fake.callbacksFor(c.id) : [];
      if ((c.kind === 'envelope' || c.kind === 'trt') && c.id && lines.length !== 1) problems.push(`interaction ${i} (${c.kind}): ${lines.length} lines`);
      if (c.kind === 'other' && lines.length !== 0) problems.push(`interaction ${i} (other): ${lines.map((l) => l.fields.reason).join(', ')}`);
      if (c.kind === 'broken' && lines.length > 1) problems.push(`interaction ${i} (broken): ${lines.length} lines`);
      if (c.answer === undefined ? answers.length !== 0 : answers.length !== 1 || answers[0]!.body.type !== c.answer) {
        problems.push(`interaction ${i} (${c.kind}): answers ${answers.map((a) => a.body.type).join(',') || 'none'}, expected ${c.answer ?? 'none'}`);
      }
    }
    // Drops without an id: exactly the cases whose id was broken.
    const withoutId = drops.filter((l) => l.fields.eventId === undefined).length;
    const expectedWithoutId = messages.filter((c) => c.kind === 'drop' && !c.id).length + interactions.filter((c) => c.kind === 'envelope' && !c.id).length;
    if (withoutId !== expectedWithoutId) problems.push(`${withoutId} drop lines without an id, expected ${expectedWithoutId}`);
    for (const l of h.logger.lines) {
      const bad = checkLine(l);
      if (bad) problems.push(`log line: ${bad}: ${l.text.slice(0, 200).replaceAll(MARK, '<MARK>')}`);
    }
    expect(problems.slice(0, 20)).toEqual([]);
    // No request to Discord carries anything from a body but the bot's own words.
    expect(h.fake.calls.filter((c) => c.path.includes(MARK))).toEqual([]);
    // Some junk made discord.js itself throw, inside the guard (without it: unhandled rejections).
    const thrown = drops.filter((l) => String(l.fields.reason).startsWith('discord.js: ')).length;
    expect(thrown).toBeGreaterThan(0);
    const elapsed = Date.now() - started;
    const kinds = (xs: Array<{ kind: string }>) => {
      const n = new Map<string, number>();
      for (const x of xs) n.set(x.kind, (n.get(x.kind) ?? 0) + 1);
      return [...n].map(([k, v]) => `${k} ${v}`).join(', ');
    };
    console.info(`Discord fuzz (seed ${SEED}): messages ${kinds(messages)}; interactions ${kinds(interactions)}; ${drops.length} drop lines (${thrown} where discord.js threw), ${answered.length} interactions answered; ${elapsed} ms`);
  }, 60_000);
});
