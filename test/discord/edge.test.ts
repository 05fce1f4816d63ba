/**
 * The Discord edge (adapters/discord/gateway-guard.ts, shapes.ts): what is dropped, how the
 * drop is logged, that every interaction is answered, and that payloads discord.js itself
 * throws on never become an unhandled rejection. The real discord.js Client, the fake Discord.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { trtCommand } from '../../adapters/discord/discord-app.js';
import { UNHANDLED_REPLY } from '../../adapters/discord/gateway-guard.js';
import { CONTENT_MAX, SUBCOMMANDS, classifyInteraction, classifyMessage, isSnowflake } from '../../adapters/discord/shapes.js';
import { APP_ID, GUILD_ID, TEXT_CHANNEL_ID, autocomplete, buttonPress, interaction, message, modalSubmit, nextId, person, slashCommand } from '../fakes/discord.js';
import { DM_CHANNEL, DROPPED, startHarness, waitUntil, type Harness } from './edge-harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const dm = (fields: Record<string, unknown> = {}) => ({ ...message({ channel_id: DM_CHANNEL, content: 'hello there', author: person() }), ...fields });

describe('Discord shapes', () => {
  it('snowflakes are 17 to 20 ASCII digits', () => {
    for (const ok of ['12345678901234567', '18446744073709551615', GUILD_ID]) expect(isSnowflake(ok)).toBe(true);
    for (const bad of ['1234567890123456', '123456789012345678901', '１２３４５６７８９０１２３４５６７８', '-12345678901234567', ' 12345678901234567', '1234567890123456a', '', 12345678901234567]) {
      expect(isSnowflake(bad)).toBe(false);
    }
  });

  it("content within Discord's limit, counted in code points: 4,000 emoji pass, 4,001 characters do not", () => {
    expect(classifyMessage(dm({ content: '🙂'.repeat(CONTENT_MAX) })).kind).toBe('pass');
    expect(classifyMessage(dm({ content: '' })).kind).toBe('pass'); // an attachment alone, or no content intent
    expect(classifyMessage(dm({ content: 'a'.repeat(CONTENT_MAX + 1) }))).toMatchObject({ kind: 'drop', reason: 'content: too_big' });
    expect(classifyMessage(dm({ content: 'a'.repeat(1 << 20) }))).toMatchObject({ kind: 'drop', reason: 'content: too_big' });
  });

  it('a reason names the path and the zod code, never the value; the id only when it is a snowflake', () => {
    expect(classifyMessage(dm({ author: { id: 'secret words here' } }))).toMatchObject({ kind: 'drop', reason: 'author.id: invalid_format' });
    expect(classifyMessage(dm({ id: 'secret words here' }))).toEqual({ kind: 'drop', reason: 'id: invalid_format', eventId: undefined });
    expect(classifyMessage(dm({ guild_id: null })).kind).toBe('drop'); // absent or a snowflake, never null
    expect(classifyMessage({ ...dm(), extra_field_named_secret: 1 }).kind).toBe('pass'); // unknown fields pass, unnamed
    expect(classifyMessage('secret words')).toEqual({ kind: 'drop', reason: '(body): invalid_type', eventId: undefined });
  });

  it('/trt is checked whole; other interactions only for an envelope that can be answered', () => {
    const where = { channelId: DM_CHANNEL };
    expect(classifyInteraction(slashCommand('status', where)).kind).toBe('pass');
    expect(classifyInteraction(slashCommand('delete-everything', where))).toMatchObject({ kind: 'drop', reason: 'data.options.0.name: invalid_value' });
    const inGuild = slashCommand('status', { channelId: TEXT_CHANNEL_ID, guildId: GUILD_ID });
    expect(classifyInteraction({ ...inGuild, member: undefined })).toMatchObject({ kind: 'drop', reason: 'member: invalid_type' });
    expect(classifyInteraction(buttonPress(where)).kind).toBe('pass');
    expect(classifyInteraction({ ...buttonPress(where), token: '../../webhooks/x' })).toMatchObject({ kind: 'drop', reason: 'token: invalid_format' });
  });

  it("the subcommands checked are the registered /trt command's", () => {
    const registered = (trtCommand.toJSON().options ?? []).map((o) => o.name);
    expect([...SUBCOMMANDS]).toEqual(registered);
  });
});

describe('Discord edge (real discord.js Client)', () => {
  it('a malformed DM is dropped with one warn line: event, id, reason; it reaches neither the queue nor the engine', async () => {
    h = await startHarness();
    const bad = dm({ author: { id: 'I want to end my life' } });
    h.fake.dispatch('MESSAGE_CREATE', bad);
    await h.waitReceived('MESSAGE_CREATE', 1);
    expect(h.drops().map((l) => [l.level, l.fields])).toEqual([['warn', { event: 'MESSAGE_CREATE', eventId: bad.id, reason: 'author.id: invalid_format' }]]);
    await h.dmStillAnswered();
    expect(h.enqueued.map((m) => m.id)).not.toContain(bad.id);
    expect(h.turns.every((t) => !t.text.includes('end my life'))).toBe(true);
    expect(h.logger.lines.some((l) => l.text.includes('end my life'))).toBe(false);
  });

  it('payloads discord.js throws on (author null, embeds null, a junk bitfield, junk components) are dropped, never an unhandled rejection', async () => {
    h = await startHarness();
    const bodies = [dm({ embeds: null }), dm({ components: [null] }), dm({ poll: 'Zanzibar' }), dm({ reactions: [null] }), dm({ message_snapshots: 'Zanzibar' })];
    for (const b of bodies) h.fake.dispatch('MESSAGE_CREATE', b);
    await h.waitReceived('MESSAGE_CREATE', bodies.length);
    await h.dmStillAnswered();
    expect(h.crashes).toEqual([]);
    expect(h.drops().map((l) => l.fields)).toEqual(bodies.map((b) => ({ event: 'MESSAGE_CREATE', eventId: b.id, reason: 'discord.js: TypeError' })));
    expect(h.enqueued.map((m) => m.id)).toHaveLength(1); // only the DM after
  });

  it('junk frames and null bodies of other events: no crash, at most one line each, nothing of the body logged', async () => {
    h = await startHarness();
    h.fake.sendRaw('not json Zanzibar');
    h.fake.sendRaw(JSON.stringify({ op: 0, t: 12, s: 'x', d: { Zanzibar: 1 } }));
    h.fake.sendRaw(JSON.stringify({ op: 0, t: '__proto__', s: 900, d: 'Zanzibar' }));
    h.fake.sendRaw(JSON.stringify({ op: 0, t: 'constructor', s: 901, d: 'Zanzibar' }));
    h.fake.sendRaw(JSON.stringify({ op: 0, t: 'Zanzibar'.repeat(100_000), s: 902, d: null }));
    h.fake.sendRaw(JSON.stringify({ op: 99, d: 'Zanzibar' }));
    const events = ['GUILD_CREATE', 'CHANNEL_CREATE', 'THREAD_CREATE', 'MESSAGE_UPDATE', 'MESSAGE_DELETE', 'TYPING_START', 'GUILD_MEMBER_ADD', 'MESSAGE_REACTION_ADD', 'PRESENCE_UPDATE'];
    for (const t of events) {
      h.fake.dispatch(t, null);
      h.fake.dispatch(t, 'Zanzibar');
    }
    for (const t of events) await h.waitReceived(t, 2);
    await h.dmStillAnswered();
    expect(h.crashes).toEqual([]);
    for (const l of h.drops()) {
      expect(l.fields.reason).toMatch(/^discord\.js: \w+$/);
      if ('event' in l.fields) expect(events).toContain(l.fields.event); // a junk `t` is not logged
    }
    expect(h.drops().length).toBeLessThanOrEqual(events.length * 2 + 2);
    expect(h.logger.lines.filter((l) => l.text.includes('Zanzibar'))).toEqual([]);
  });

  it('other commands, context menus, buttons, autocomplete and modals are answered at once, the way Discord expects; none reaches the engine', async () => {
    h = await startHarness();
    const where = { channelId: DM_CHANNEL };
    const cases = [
      { d: interaction(2, { id: nextId(), name: 'other', type: 1 }, where), type: 4 },
      { d: interaction(2, { id: nextId(), name: 'Inspect', type: 2, target_id: person().id, resolved: { users: { [person().id]: person() } } }, where), type: 4 }, // a user context menu
      { d: buttonPress(where), type: 6 },
      { d: interaction(3, { custom_id: 'pick', component_type: 3, values: ['a'] }, where), type: 6 }, // a select menu
      { d: autocomplete(where), type: 8 },
      { d: modalSubmit(where), type: 4 },
      { d: interaction(2, { id: nextId(), name: 'other', type: 1 }, { channelId: TEXT_CHANNEL_ID, guildId: GUILD_ID }), type: 4 },
    ];
    for (const c of cases) h.fake.dispatch('INTERACTION_CREATE', c.d);
    await waitUntil('every interaction answered', () => cases.every((c) => h!.fake.callbacksFor(c.d.id).length > 0));
    for (const c of cases) {
      const [answer, ...more] = h.fake.callbacksFor(c.d.id);
      expect(more).toEqual([]);
      expect(answer!.body.type).toBe(c.type);
      if (c.type === 4) expect(answer!.body.data).toMatchObject({ content: UNHANDLED_REPLY, flags: 64 });
      if (c.type === 8) expect(answer!.body.data).toEqual({ choices: [] });
    }
    expect(h.turns).toEqual([]);
    expect(h.drops()).toEqual([]);
  });

  it('a malformed /trt is dropped with one line and answered; one without a usable id or token is dropped unanswered', async () => {
    h = await startHarness();
    const where = { channelId: DM_CHANNEL };
    const unknownSub = slashCommand('erase-all', where);
    const badUser = { ...slashCommand('reset', where), user: { id: 'Zanzibar' } };
    const badGuild = { ...slashCommand('reset', where), guild_id: 'Zanzibar' };
    const badToken = { ...slashCommand('reset', where), token: 'has spaces Zanzibar' };
    const badId = { ...slashCommand('reset', where), id: 'Zanzibar' };
    for (const d of [unknownSub, badUser, badGuild, badToken, badId]) h.fake.dispatch('INTERACTION_CREATE', d);
    await h.waitReceived('INTERACTION_CREATE', 5);
    await waitUntil('the three answers', () => [unknownSub, badUser, badGuild].every((d) => h!.fake.callbacksFor(d.id).length === 1));
    expect(h.drops().map((l) => l.fields)).toEqual([
      { event: 'INTERACTION_CREATE', eventId: unknownSub.id, reason: 'data.options.0.name: invalid_value' },
      { event: 'INTERACTION_CREATE', eventId: badUser.id, reason: 'user.id: invalid_format' },
      { event: 'INTERACTION_CREATE', eventId: badGuild.id, reason: 'guild_id: invalid_format' },
      { event: 'INTERACTION_CREATE', eventId: badToken.id, reason: 'token: invalid_format' },
      { event: 'INTERACTION_CREATE', reason: 'id: invalid_format' },
    ]);
    expect(h.fake.callbacksFor(badToken.id)).toEqual([]);
    expect(h.fake.calls.filter((c) => c.path.includes('Zanzibar'))).toEqual([]);
    expect(h.turns).toEqual([]);
    expect(h.markCalls).toEqual([]);
  });

  it('an interaction discord.js throws on or does not emit (no entitlements, an unknown component type) is answered by the guard', async () => {
    h = await startHarness();
    const where = { channelId: DM_CHANNEL };
    const noEntitlements = { ...buttonPress(where), entitlements: undefined };
    const unknownComponent = interaction(3, { custom_id: 'x', component_type: 99 }, where);
    const unknownCommandType = interaction(2, { id: nextId(), name: 'x', type: 77 }, where);
    const trtNoEntitlements = { ...slashCommand('status', where), entitlements: undefined };
    for (const d of [noEntitlements, unknownComponent, unknownCommandType, trtNoEntitlements]) h.fake.dispatch('INTERACTION_CREATE', d);
    await waitUntil('four answers', () => [noEntitlements, unknownComponent, unknownCommandType, trtNoEntitlements].every((d) => h!.fake.callbacksFor(d.id).length === 1));
    expect(h.fake.callbacksFor(noEntitlements.id)[0]!.body.type).toBe(6);
    expect(h.fake.callbacksFor(unknownComponent.id)[0]!.body.type).toBe(6);
    expect(h.fake.callbacksFor(unknownCommandType.id)[0]!.body.type).toBe(4);
    expect(h.fake.callbacksFor(trtNoEntitlements.id)[0]!.body).toEqual({ type: 4, data: { content: UNHANDLED_REPLY, flags: 64 } });
    expect(h.drops().map((l) => l.fields)).toEqual([
      { event: 'INTERACTION_CREATE', eventId: noEntitlements.id, reason: 'discord.js: TypeError' },
      { event: 'INTERACTION_CREATE', eventId: trtNoEntitlements.id, reason: 'discord.js: TypeError' },
    ]);
    expect(h.crashes).toEqual([]);
    expect(h.turns).toEqual([]);
  });

  it('a /trt whose turn fails before any answer is answered all the same (never left to time out)', async () => {
    h = await startHarness();
    h.failTurns = true;
    const d = slashCommand('status', { channelId: DM_CHANNEL });
    h.fake.dispatch('INTERACTION_CREATE', d);
    await waitUntil('the answer', () => h!.fake.callbacksFor(d.id).length === 1);
    expect(h.fake.callbacksFor(d.id)[0]!.body).toMatchObject({ type: 4, data: { flags: 64, content: expect.stringContaining('having trouble') } });
    expect(h.logger.lines.map((l) => [l.msg, l.fields])).toEqual([['Discord command failed', { err: 'Error', channel: DM_CHANNEL }]]);
  });

  it('a well-formed /trt still reaches the engine, once, and is answered', async () => {
    h = await startHarness();
    const d = slashCommand('status', { channelId: DM_CHANNEL });
    h.fake.dispatch('INTERACTION_CREATE', d);
    await waitUntil('the answer', () => h!.fake.callbacksFor(d.id).length === 1);
    expect(h.turns.map((t) => [t.sessionId, t.text])).toEqual([[`discord:dm:${DM_CHANNEL}`, 'status']]);
    expect(h.drops()).toEqual([]);
    expect(APP_ID).toBe(d.application_id);
  });
});

describe('the drop line', () => {
  it('is pino-shaped JSON with only the event, a snowflake id and the reason', async () => {
    h = await startHarness();
    const bad = dm({ content: { nested: ['Zanzibar'] } });
    h.fake.dispatch('MESSAGE_CREATE', bad);
    await h.waitReceived('MESSAGE_CREATE', 1);
    const [line] = h.drops();
    expect(JSON.parse(line!.text)).toEqual({ level: 'warn', event: 'MESSAGE_CREATE', eventId: bad.id, reason: 'content: invalid_type', msg: DROPPED });
  });
});
