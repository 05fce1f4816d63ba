/**
 * Streaming a reply into Discord: DiscordOutlet with discord.js's real REST client against the
 * fake Discord. Previews edit one message in place, throttled; the final reply replaces it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DISCORD_MAX, createDiscordOutlet } from '../../adapters/discord/outlet.js';
import type { Logger } from '../../src/index.js';
import { FakeDiscord } from '../fakes/discord.js';
import { streamPreviews } from '../helpers.js';
import { pause, until } from '../wait.js';

let fake: FakeDiscord | undefined;
afterEach(async () => fake?.stop());

/** After the turn closed, nothing more may come: three typing intervals (50 ms) without a typing call. */
const TYPING_QUIET_MS = 150;
const CHANNEL = '600000000000000077';
const TO = { channelId: CHANNEL };
const SESSION = `discord:dm:${CHANNEL}`;
const messages = new RegExp(`^/channels/${CHANNEL}/messages$`);
const oneMessage = new RegExp(`^/channels/${CHANNEL}/messages/\\d+$`);
const typing = new RegExp(`^/channels/${CHANNEL}/typing$`);
const paragraph = 'This is a sentence about noticing the body. '.repeat(10).trim(); // ~440 characters
const LONG = Array.from({ length: 10 }, () => paragraph).join('\n\n'); // three pieces of at most 2,000

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (obj: object, msg?: string) => void lines.push(JSON.stringify({ ...obj, msg }));
  return { lines, debug: log, info: log, warn: log, error: log };
}

async function setup(typingEveryMs = 50) {
  fake = new FakeDiscord();
  const apiUrl = await fake.start();
  const logger = recordingLogger();
  const outlet = createDiscordOutlet({ token: 'fake.discord.token', apiUrl }, logger, typingEveryMs);
  return { fake, outlet, logger };
}


describe('Discord streaming replies', () => {
  it('30 quick previews become one message with at most a couple of edits; the final reply replaces it; typing stops', async () => {
    const { fake, outlet } = await setup();
    const turn = outlet.begin(TO, SESSION);
    await fake.waitFor('POST', typing); // "typing" is up before the first preview
    await streamPreviews(turn, 'Let us notice where the feeling lives in your body, slowly and gently.', 30, 20);
    const typed = fake.of('POST', typing).length;
    expect(await turn.deliver('A different final line.')).toBe(true);
    await turn.close();
    expect(fake.visible(CHANNEL).map((m) => m.content)).toEqual(['A different final line.']);
    const posts = fake.of('POST', messages);
    expect(posts).toHaveLength(1);
    expect(String(posts[0]!.body.content)).toMatch(/ …$/);
    expect(posts[0]!.body.allowed_mentions).toEqual({ parse: [] });
    expect(fake.of('PATCH', oneMessage).length).toBeLessThanOrEqual(2); // at most one preview edit, then the final
    expect(fake.of('DELETE', oneMessage)).toEqual([]);
    await pause(TYPING_QUIET_MS);
    expect(fake.of('POST', typing).length).toBe(typed); // the message being written replaced "typing"
  });

  it('previews over a few seconds are edits at least 1.2 s apart, never two in flight, the last text winning', async () => {
    const { fake, outlet } = await setup();
    fake.delays.set('PATCH', 150);
    const turn = outlet.begin(TO, SESSION);
    const sent = await streamPreviews(turn, 'One two three four five six seven eight nine ten eleven twelve thirteen.', 25, 100);
    // The last preview is shown once the next window opens (waited for: a loaded machine is slower).
    const last = `${sent.at(-1)!} …`;
    await until(() => fake.visible(CHANNEL)[0]?.content === last, { timeoutMs: 5000, what: () => `the last preview; shown: ${fake.visible(CHANNEL)[0]?.content}` });
    expect(fake.visible(CHANNEL)[0]!.content).toBe(last);
    const edits = fake.of('PATCH', oneMessage);
    expect(edits.length).toBeGreaterThanOrEqual(2);
    expect(edits.length).toBeLessThanOrEqual(3); // ~3.8 s of previews at one edit per 1.2 s
    const starts = [fake.of('POST', messages)[0]!.at, ...edits.map((e) => e.at)];
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(1150);
    expect(fake.maxInFlight.get('PATCH')).toBe(1);
    expect(await turn.deliver('Done.')).toBe(true);
    expect(fake.visible(CHANNEL).map((m) => m.content)).toEqual(['Done.']);
  });

  it('a reply longer than one message: the preview holds the first piece, the rest are new messages', async () => {
    const { fake, outlet } = await setup();
    const turn = outlet.begin(TO, SESSION);
    await streamPreviews(turn, LONG, 10, 30);
    await turn.deliver(LONG);
    const shown = fake.visible(CHANNEL);
    expect(shown).toHaveLength(3);
    expect(shown.every((m) => m.content.length <= DISCORD_MAX)).toBe(true);
    expect(shown.map((m) => m.content).join('\n\n')).toBe(LONG);
    expect(fake.calls.every((c) => String(c.body.content ?? '').length <= DISCORD_MAX)).toBe(true);
    expect(fake.of('PATCH', oneMessage).at(-1)!.path).toBe(`/channels/${CHANNEL}/messages/${shown[0]!.id}`);
  });

  it('a final edit that fails is posted as a new message instead, and the half-written preview removed', async () => {
    const { fake, outlet, logger } = await setup();
    const turn = outlet.begin(TO, SESSION);
    turn.preview!('Half of a secret sentence');
    await fake.waitFor('POST', messages);
    fake.failures.push({ method: 'PATCH', pattern: oneMessage, times: 1, status: 404, code: 10008 });
    expect(await turn.deliver('The whole secret sentence.')).toBe(true);
    await turn.close();
    expect(fake.visible(CHANNEL).map((m) => m.content)).toEqual(['The whole secret sentence.']);
    expect(logger.lines.join('\n')).not.toMatch(/secret/);
  });

  it('a final reply that cannot be posted at all over a visible preview reports true: redoing the turn would answer twice', async () => {
    const { fake, outlet, logger } = await setup();
    const turn = outlet.begin(TO, SESSION);
    turn.preview!('Half of a secret sentence');
    await fake.waitFor('POST', messages);
    fake.failures.push({ method: 'PATCH', pattern: oneMessage, times: 1, status: 403, code: 50001 });
    fake.failures.push({ method: 'POST', pattern: messages, times: 1, status: 403, code: 50001 });
    expect(await turn.deliver('The whole secret sentence.')).toBe(true);
    await turn.close();
    expect(fake.visible(CHANNEL).map((m) => m.content)).toEqual(['Half of a secret sentence …']); // the person keeps what they read
    expect(logger.lines.join('\n')).not.toMatch(/secret/);
  });

  it('a failed reply with no preview still reports false (the turn stays queued)', async () => {
    const { fake, outlet } = await setup();
    fake.failures.push({ method: 'POST', pattern: messages, times: 1, status: 403, code: 50001 });
    const turn = outlet.begin(TO, SESSION);
    expect(await turn.deliver('Hello.')).toBe(false);
    await turn.close();
  });

  it('close without a reply removes the preview (the turn is redone and would answer again)', async () => {
    const { fake, outlet } = await setup();
    const turn = outlet.begin(TO, SESSION);
    turn.preview!('Let us begin');
    await fake.waitFor('POST', messages);
    await turn.close();
    expect(fake.visible(CHANNEL)).toEqual([]);
    expect(fake.of('DELETE', oneMessage)).toHaveLength(1);
  });

  it('a rate-limited preview edit does not throw; the final reply still lands in the same message', async () => {
    const { fake, outlet } = await setup();
    fake.rateLimits.set(oneMessage, { times: 1, retryAfter: 1 });
    const turn = outlet.begin(TO, SESSION);
    turn.preview!('Breathing');
    await fake.waitFor('POST', messages);
    expect(() => turn.preview!('Breathing in')).not.toThrow(); // sent when the edit window opens; answered 429: discord.js waits Retry-After
    await fake.waitFor('PATCH', oneMessage);
    expect(await turn.deliver('Breathing in, and out.')).toBe(true);
    await turn.close();
    expect(fake.visible(CHANNEL).map((m) => m.content)).toEqual(['Breathing in, and out.']);
    expect(fake.of('POST', messages)).toHaveLength(1);
    expect(fake.of('PATCH', oneMessage)).toHaveLength(3); // the 429, its retry, the final
  });

  it('a second reply in the same turn (a rate-limit notice) is a new message, not an edit of the first', async () => {
    const { fake, outlet } = await setup();
    const turn = outlet.begin(TO, SESSION);
    turn.preview!('First');
    await turn.deliver('First reply.');
    await turn.deliver('Slow down a little.');
    await turn.close();
    expect(fake.visible(CHANNEL).map((m) => m.content)).toEqual(['First reply.', 'Slow down a little.']);
  });
});
