/**
 * Streaming a reply into Slack: SlackOutlet with the real WebClient against the fake Slack.
 * Previews edit one message in place, throttled; the final reply replaces it.
 */
import { webApi } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { SlackDelivery, SLACK_MAX } from '../../adapters/slack/delivery.js';
import { toMrkdwn } from '../../adapters/slack/mrkdwn.js';
import { CHANNEL_NOTICE, SlackOutlet } from '../../adapters/slack/outlet.js';
import { MemoryMarks, type Logger } from '../../src/index.js';
import { FakeSlack, TEAM } from '../fakes/slack.js';
import { streamPreviews } from '../helpers.js';
import { until } from '../wait.js';

let fake: FakeSlack | undefined;
let delivery: SlackDelivery | undefined;
afterEach(async () => {
  delivery?.stop();
  await fake?.stop();
});

const paragraph = 'This is a sentence about noticing the body. '.repeat(20).trim(); // ~880 characters
const LONG = Array.from({ length: 6 }, () => paragraph).join('\n\n'); // two pieces of at most 3,500
const DM = { channel: 'D0STREAM', isDm: true };

/** Every log line, to check that no message text reaches the logs. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (obj: object, msg?: string) => void lines.push(JSON.stringify({ ...obj, msg }));
  return { lines, debug: log, info: log, warn: log, error: log };
}

async function setup(opts: { placeholderAfterMs?: number } = {}) {
  fake = new FakeSlack();
  const apiUrl = await fake.start();
  const client = new webApi.WebClient('xoxb-test', { slackApiUrl: apiUrl, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } });
  const logger = recordingLogger();
  delivery = new SlackDelivery({ logger, redeliverDelaysMs: [50] });
  const outlet = new SlackOutlet(client, delivery, new MemoryMarks(), opts.placeholderAfterMs ?? 60_000);
  return { fake, outlet, logger };
}


describe('Slack streaming replies', () => {
  it('30 quick previews become one message with at most a couple of edits; the final reply replaces it', async () => {
    const { fake, outlet } = await setup();
    const turn = outlet.begin(DM, `slack:${TEAM}:D0STREAM`);
    await streamPreviews(turn, 'Let us notice where the feeling lives in your body, slowly and gently.', 30, 20);
    expect(await turn.deliver('A different final line.')).toBe(true);
    await turn.close();
    const shown = fake.visible('D0STREAM');
    expect(shown.map((m) => m.text)).toEqual(['A different final line.']);
    expect(fake.of('chat.postMessage')).toHaveLength(1);
    expect(String(fake.of('chat.postMessage')[0]!.args.text)).toMatch(/ …$/); // still being written
    expect(fake.of('chat.update').length).toBeLessThanOrEqual(2); // at most one preview edit, then the final
    expect(fake.of('chat.delete')).toEqual([]);
  });

  it('previews over a few seconds are edits at least a second apart, never two in flight, the last text winning', async () => {
    const { fake, outlet } = await setup();
    fake.delays.set('chat.update', 150); // a slow Slack: edits must still not overlap
    const turn = outlet.begin(DM, `slack:${TEAM}:D0STREAM`);
    const started = Date.now();
    const sent = await streamPreviews(turn, 'One two three four five six seven eight nine ten eleven twelve thirteen.', 25, 100);
    // The last preview is shown once the next window opens (waited for, not slept: a loaded machine is slower).
    const last = `${toMrkdwn(sent.at(-1)!)} …`;
    await until(() => fake.visible('D0STREAM')[0]?.text === last, { timeoutMs: 5000, everyMs: 25, what: () => `the last preview; shown: ${fake.visible('D0STREAM')[0]?.text}` });
    expect(fake.visible('D0STREAM')[0]!.text).toBe(last);
    const edits = fake.of('chat.update');
    expect(edits.length).toBeGreaterThanOrEqual(2);
    // At most one edit a second over the time the previews took (about 3.7 s unloaded).
    expect(edits.length).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / 1000));
    const starts = [fake.of('chat.postMessage')[0]!.at, ...edits.map((e) => e.at)];
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(950);
    expect(fake.maxInFlight.get('chat.update')).toBe(1);
    expect(await turn.deliver('Done.')).toBe(true);
    expect(fake.visible('D0STREAM').map((m) => m.text)).toEqual(['Done.']);
  });

  it('the final reply waits for a preview edit in flight, so a late preview never overwrites it', async () => {
    const { fake, outlet } = await setup();
    fake.delays.set('chat.update', 300);
    const turn = outlet.begin(DM, `slack:${TEAM}:D0STREAM`);
    turn.preview!('Almost');
    await fake.waitFor('chat.postMessage');
    turn.preview!('Almost there'); // sent as an edit when the 1 s window opens
    await fake.waitFor('chat.update'); // that edit is now in flight
    turn.preview!('Almost there, one more'); // pending: dropped by the final reply
    expect(await turn.deliver('Here it is.')).toBe(true);
    expect(fake.maxInFlight.get('chat.update')).toBe(1);
    expect(fake.of('chat.update').map((c) => c.args.text)).toEqual(['Almost there …', 'Here it is.']);
    expect(fake.visible('D0STREAM').map((m) => m.text)).toEqual(['Here it is.']);
  });

  it('a "One moment…" placeholder already up is edited by the first preview instead of a second message', async () => {
    const { fake, outlet } = await setup({ placeholderAfterMs: 10 });
    const turn = outlet.begin(DM, `slack:${TEAM}:D0STREAM`);
    await fake.waitFor('chat.postMessage');
    turn.preview!('Breathing in');
    await fake.waitFor('chat.update');
    expect(fake.visible('D0STREAM').map((m) => m.text)).toEqual(['Breathing in …']);
    await turn.deliver('Breathing in, and out.');
    await turn.close();
    expect(fake.visible('D0STREAM').map((m) => m.text)).toEqual(['Breathing in, and out.']);
    expect(fake.of('chat.postMessage')).toHaveLength(1);
  });

  it('a reply longer than one message: the preview holds the first piece, the rest are new messages', async () => {
    const { fake, outlet } = await setup();
    const turn = outlet.begin(DM, `slack:${TEAM}:D0STREAM`);
    await streamPreviews(turn, LONG, 10, 40);
    await turn.deliver(LONG);
    const shown = fake.visible('D0STREAM');
    expect(shown).toHaveLength(2);
    expect(shown.every((m) => m.text.length <= SLACK_MAX)).toBe(true);
    expect(shown.map((m) => m.text).join('\n\n')).toBe(LONG);
    expect(fake.calls.filter((c) => c.method.startsWith('chat.')).every((c) => String(c.args.text ?? '').length <= SLACK_MAX)).toBe(true);
  });

  it('a failed final update over a visible preview reports true (no second answer) and is redelivered into that message', async () => {
    const { fake, outlet, logger } = await setup();
    const turn = outlet.begin(DM, `slack:${TEAM}:D0STREAM`);
    turn.preview!('Half of a secret sentence');
    await fake.waitFor('chat.postMessage');
    fake.failures.set('chat.update', { times: 1, error: 'internal_error' });
    expect(await turn.deliver('The whole secret sentence.')).toBe(true);
    await turn.close();
    await fake.waitFor('chat.update', 2, 2000); // the redelivery
    expect(fake.visible('D0STREAM').map((m) => m.text)).toEqual(['The whole secret sentence.']);
    expect(logger.lines.join('\n')).not.toMatch(/secret/);
  });

  it('close without a reply removes the preview (the turn is redone), and the redone turn still carries the channel notice', async () => {
    const { fake, outlet } = await setup();
    const place = { channel: 'C0CHAN', threadTs: '1700000000.000100', isDm: false };
    const sessionId = `slack:${TEAM}:C0CHAN:1700000000.000100`;
    const aborted = outlet.begin(place, sessionId);
    aborted.preview!('Let us begin');
    await fake.waitFor('chat.postMessage');
    expect(fake.visible('C0CHAN')[0]!.text.startsWith(CHANNEL_NOTICE)).toBe(true);
    expect(fake.visible('C0CHAN')[0]!.threadTs).toBe(place.threadTs);
    await aborted.close();
    expect(fake.visible('C0CHAN')).toEqual([]);

    const redone = outlet.begin(place, sessionId);
    redone.preview!('Let us begin');
    await redone.deliver('Let us begin again.');
    await redone.close();
    expect(fake.visible('C0CHAN').map((m) => m.text)).toEqual([`${CHANNEL_NOTICE}\n\nLet us begin again.`]);

    const next = outlet.begin(place, sessionId); // the notice comes once per thread
    next.preview!('Next');
    await next.deliver('Next step.');
    expect(fake.visible('C0CHAN').map((m) => m.text).at(-1)).toBe('Next step.');
  });

  it('a rate-limited preview is dropped without throwing; the next preview and the final reply still land', async () => {
    const { fake, outlet, logger } = await setup();
    fake.rateLimits.set('chat.postMessage', { times: 1, retryAfter: 1 });
    const turn = outlet.begin(DM, `slack:${TEAM}:D0STREAM`);
    expect(() => turn.preview!('Private words')).not.toThrow();
    await fake.waitFor('chat.postMessage');
    turn.preview!('Private words, more'); // waits out Retry-After, then shows
    await fake.waitFor('chat.postMessage', 2, 3000);
    expect(fake.of('chat.postMessage')[1]!.at - fake.of('chat.postMessage')[0]!.at).toBeGreaterThanOrEqual(900);
    expect(await turn.deliver('Private words, all of them.')).toBe(true);
    expect(fake.visible('D0STREAM').map((m) => m.text)).toEqual(['Private words, all of them.']);
    expect(logger.lines.some((l) => l.includes('rate limit'))).toBe(true);
    expect(logger.lines.join('\n')).not.toMatch(/Private/);
  });

  it('a second reply in the same turn (a rate-limit notice) is a new message, not an edit of the first', async () => {
    const { fake, outlet } = await setup();
    const turn = outlet.begin(DM, `slack:${TEAM}:D0STREAM`);
    turn.preview!('First');
    await turn.deliver('First reply.');
    await turn.deliver('Slow down a little.');
    await turn.close();
    expect(fake.visible('D0STREAM').map((m) => m.text)).toEqual(['First reply.', 'Slow down a little.']);
  });
});
