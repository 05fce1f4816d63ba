/**
 * `settings` and the person's country on the real engine and config: the round trip, invalid
 * values, the country's crisis lines first (crisis response, check-in, help), the resolution
 * order (setting, then what the platform says, then the default), prefs following the person
 * into another session, erased with `forget`, and read with the session in the same round trip.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Engine, MemorySessionStore, RedisSessionStore, type SessionStore, type TurnInput } from '../../src/index.js';
import { repoConfig, repoRetriever } from '../helpers.js';
import { cleanup, client, uniquePrefix } from '../redis/helpers.js';

const config = repoConfig();
const AU = 'Lifeline on 13 11 14';
const NZ = '1737';
const GENERIC = 'findahelpline.com';

function engineOn(store: SessionStore = new MemorySessionStore()) {
  const engine = new Engine({ config, store, retriever: repoRetriever() });
  const say = (text: string, over: Partial<TurnInput> = {}) => engine.handleTurn({ sessionId: 'slack:T1:D1', userId: 'U1', platform: 'slack', text, ...over });
  return { engine, say, store };
}

describe('settings: the country for crisis lines', () => {
  it('shows, sets and resets the country; invalid values get one line saying what is accepted', async () => {
    const { say } = engineOn();
    expect((await say('settings')).reply).toContain('not set');
    const set = await say('settings country AU');
    expect(set.kind).toBe('command');
    expect(set.reply).toContain('Australia');
    expect(set.reply).toContain(AU);
    expect((await say('settings')).reply).toContain('Australia (you chose it)');
    for (const bad of ['settings country XX', 'settings country australia', 'settings colour blue', 'settings checkins 25:99', 'settings timezone Mars/Olympus', 'settings replies tiny']) {
      const r = await say(bad);
      expect(r.reply!.split('\n')).toHaveLength(1);
      expect(r.reply).toContain('settings country');
      expect(r.reply).toContain('AU');
      expect(r.reply).toContain('settings checkins 18:30');
    }
    // Without a check-in schedule here (no workers), asking for one is answered plainly.
    expect((await say('settings checkins 18:30')).reply).toBe(config.responses.settings.checkins_unavailable);
    await say('settings country auto');
    expect((await say('settings')).reply).toContain('not set');
  });

  it("the crisis response, the check-in and help put the person's country's lines first, the generic ones after", async () => {
    const { say } = engineOn();
    await say('settings country AU');
    const help = (await say('help')).reply!;
    expect(help.indexOf(AU)).toBeGreaterThan(-1);
    expect(help.indexOf(AU)).toBeLessThan(help.indexOf(GENERIC));
    const check = (await say("I don't see the point of anything anymore")).reply!;
    expect(check.indexOf(AU)).toBeGreaterThan(-1);
    expect(check.indexOf(AU)).toBeLessThan(check.indexOf(GENERIC));
    const crisis = (await say('I want to kill myself')).reply!;
    expect(crisis.indexOf(AU)).toBeGreaterThan(-1);
    expect(crisis.indexOf(AU)).toBeLessThan(crisis.indexOf(GENERIC));
  });

  it('resolution order: the setting beats what the platform says, which beats the default (generic lines only)', async () => {
    const { say } = engineOn();
    await say('hello');
    expect((await say('help')).reply).toBe(config.responses.commands.help); // nothing known: the text as reviewed
    const hinted = (await say('help', { platformCountry: 'NZ' })).reply!;
    expect(hinted).toContain(NZ);
    // Kept once seen: the next turn without the hint still says NZ.
    expect((await say('help')).reply).toContain(NZ);
    expect((await say('settings')).reply).toContain('New Zealand (from what Slack says');
    await say('settings country AU');
    const chosen = (await say('help', { platformCountry: 'NZ' })).reply!;
    expect(chosen).toContain(AU);
    expect(chosen).not.toContain(NZ);
  });

  it('prefs follow the person into another session and go with forget', async () => {
    const { say } = engineOn();
    await say('settings country AU');
    expect((await say('help', { sessionId: 'slack:T1:C1:1.0' })).reply).toContain(AU);
    expect((await say('help', { sessionId: 'slack:T1:D2', userId: 'U2' })).reply).not.toContain(AU);
    await say('forget');
    expect((await say('yes')).reply).toContain(config.responses.commands.forget_done);
    expect((await say('help')).reply).not.toContain(AU);
  });
});

describe('settings on Redis', () => {
  const prefixes: string[] = [];
  const stores: RedisSessionStore[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
    await Promise.all(prefixes.map((p) => cleanup(p)));
  });

  it('prefs are read with the session: an ordinary turn still waits on two round trips; export holds them', async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const store = new RedisSessionStore({ client: client(), prefix });
    stores.push(store);
    const { say } = engineOn(store);
    await say('hello');
    await say('settings country AU');
    const before = store.roundTrips;
    const r = await say('help');
    expect(r.reply).toContain(AU);
    expect(store.roundTrips - before).toBe(2);
    expect((await store.exportUser('slack:U1')).prefs).toEqual({ country: 'AU' });
  });
});
