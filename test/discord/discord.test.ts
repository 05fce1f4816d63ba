/** The Discord adapter on the real discord.js Client, against a local fake Discord (REST + gateway). */
import { afterEach, describe, expect, it } from 'vitest';
import { createDiscordClient, type DiscordRunner } from '../../adapters/discord/discord-app.js';
import { createDiscordOutlet } from '../../adapters/discord/outlet.js';
import { MemoryMarks, QueueWorker, RedisMarks, RedisTurnQueue, silentLogger, type Engine, type Marks } from '../../src/index.js';
import { cleanup, client, uniquePrefix } from '../redis/helpers.js';
import { BOT_ID, FakeDiscord, GUILD_ID, TEXT_CHANNEL_ID, botUser, message, person, slashCommand } from '../fakes/discord.js';
import { makeEngine } from '../helpers.js';
import { pause } from '../wait.js';
import { answeredTurn } from '../turn-results.js';

let runner: DiscordRunner | undefined;
let fake: FakeDiscord;
afterEach(async () => {
  await runner?.stop();
  await fake.stop();
});

type TestEngine = Pick<Engine, 'handleTurn' | 'texts' | 'crisisResponse'>;
async function startBot(engine: TestEngine = makeEngine().engine, marks: Marks = new MemoryMarks()) {
  fake = new FakeDiscord();
  const apiUrl = await fake.start();
  runner = createDiscordClient({ token: 'fake.discord.token', apiUrl }, { engine, marks, logger: silentLogger, typingEveryMs: 100 });
  await runner.start();
  await fake.ready();
}

const DM_CHANNEL = '600000000000000001';
/**
 * A test that asserts nothing more was posted waits this long after the last event it can observe
 * (a dispatch sent, or the last reply): a turn that wrongly ran would have posted by then.
 */
const QUIET_MS = 300;
/** The same through the Redis queue, whose worker blocks 200 ms per read: a replay would take a read longer. */
const QUEUE_QUIET_MS = 400;
/** An engine slower than Discord's 3 s interaction deadline allows without a deferral (scenario, not synchronisation). */
const SLOW_COMMAND_MS = 2500;
const dmMessage = (content: string, author = person()) => message({ channel_id: DM_CHANNEL, content, author });

describe('Discord (real discord.js Client)', () => {
  it('answers a DM in the DM, showing typing first', async () => {
    await startBot();
    fake.dispatch('MESSAGE_CREATE', dmMessage('hello'));
    const [post] = await fake.waitFor('POST', new RegExp(`^/channels/${DM_CHANNEL}/messages$`));
    expect(String(post!.body.content)).toContain('automated self-help guide');
    expect(fake.of('POST', new RegExp(`^/channels/${DM_CHANNEL}/typing$`)).length).toBeGreaterThan(0);
  });

  it('a mention in a server opens a private thread; the conversation continues there without mentions', async () => {
    await startBot();
    const who = person('400000000000000007');
    fake.dispatch('MESSAGE_CREATE', message({ channel_id: TEXT_CHANNEL_ID, guild_id: GUILD_ID, content: `<@${BOT_ID}> hello`, author: who, mentions: [botUser()] }));
    const [created] = await fake.waitFor('POST', new RegExp(`^/channels/${TEXT_CHANNEL_ID}/threads$`));
    expect(created!.body.type).toBe(12); // private thread
    await fake.waitFor('PUT', new RegExp(`/thread-members/${who.id}$`));
    const [first] = await fake.waitFor('POST', /^\/channels\/\d+\/messages$/);
    const threadId = /^\/channels\/(\d+)\/messages$/.exec(first!.path)![1]!;
    expect(threadId).not.toBe(TEXT_CHANNEL_ID);
    fake.dispatch('MESSAGE_CREATE', message({ channel_id: threadId, guild_id: GUILD_ID, content: 'I want to feel calm', author: who }));
    const posts = await fake.waitFor('POST', new RegExp(`^/channels/${threadId}/messages$`), 2);
    expect(String(posts[1]!.body.content)).toContain('calm'); // the vision step: same session
  });

  it('still answers when the shared marks (Redis) are unreachable: a duplicate is better than silence', async () => {
    const refuse = async () => Promise.reject(new Error('ECONNREFUSED'));
    const down: Marks = { setIfAbsent: refuse, exists: refuse, clear: refuse };
    await startBot(makeEngine().engine, down);
    fake.dispatch('MESSAGE_CREATE', dmMessage('I want to kill myself'));
    const [post] = await fake.waitFor('POST', new RegExp(`^/channels/${DM_CHANNEL}/messages$`));
    expect(String(post!.body.content)).toContain('988');
  });

  it('where no thread may be opened, answers in place with a pointer to DMs (and the crisis response when needed)', async () => {
    await startBot();
    fake.threadsForbidden = true;
    fake.dispatch('MESSAGE_CREATE', message({ channel_id: TEXT_CHANNEL_ID, guild_id: GUILD_ID, content: `<@${BOT_ID}> I want to end my life`, author: person(), mentions: [botUser()] }));
    const [reply] = await fake.waitFor('POST', new RegExp(`^/channels/${TEXT_CHANNEL_ID}/messages$`));
    expect(String(reply!.body.content)).toContain('988');
    expect(String(reply!.body.content)).toContain('direct message');
  });

  it('a bare mention opens the thread with a greeting', async () => {
    await startBot();
    fake.dispatch('MESSAGE_CREATE', message({ channel_id: TEXT_CHANNEL_ID, guild_id: GUILD_ID, content: `<@${BOT_ID}>`, author: person(), mentions: [botUser()] }));
    const [post] = await fake.waitFor('POST', /^\/channels\/\d+\/messages$/);
    expect(String(post!.body.content)).toContain('automated self-help guide');
  });

  it('ignores bots (itself included), system messages and channel chatter without a mention', async () => {
    await startBot();
    fake.dispatch('MESSAGE_CREATE', dmMessage('from a bot', { ...person('400000000000000009'), bot: true } as ReturnType<typeof person>));
    fake.dispatch('MESSAGE_CREATE', dmMessage('myself', botUser() as ReturnType<typeof person>));
    fake.dispatch('MESSAGE_CREATE', { ...dmMessage('pinned'), type: 6 });
    fake.dispatch('MESSAGE_CREATE', message({ channel_id: TEXT_CHANNEL_ID, guild_id: GUILD_ID, content: 'just chatting', author: person() }));
    await pause(QUIET_MS);
    expect(fake.of('POST', /\/messages$/)).toEqual([]);
  });

  it('splits a 2,500-character reply into two messages under 2,000 characters', async () => {
    const long = `${'A sentence about breathing slowly. '.repeat(40).trim()}\n\n${'Another about the shoulders dropping. '.repeat(30).trim()}`;
    expect(long.length).toBeGreaterThan(2500);
    const engine: TestEngine = { texts: { disclosure: 'd', help: 'h', unavailable: 'u', unsure: 'maybe' },
      crisisResponse: () => null, handleTurn: async (i) => answeredTurn(i.sessionId, long) };
    await startBot(engine);
    fake.dispatch('MESSAGE_CREATE', dmMessage('tell me'));
    const posts = await fake.waitFor('POST', new RegExp(`^/channels/${DM_CHANNEL}/messages$`), 2);
    await pause(QUIET_MS);
    expect(fake.of('POST', new RegExp(`^/channels/${DM_CHANNEL}/messages$`))).toHaveLength(2);
    for (const p of posts) expect(String(p.body.content).length).toBeLessThanOrEqual(2000);
    expect(posts.map((p) => p.body.content).join('\n\n')).toBe(long);
  });

  it('/trt answers with an ephemeral reply; in a DM it acts on the DM session', async () => {
    await startBot();
    fake.dispatch('INTERACTION_CREATE', slashCommand('help', { channelId: DM_CHANNEL }));
    fake.dispatch('INTERACTION_CREATE', slashCommand('status', { channelId: DM_CHANNEL }));
    const calls = await fake.waitFor('POST', /^\/interactions\/\d+\/[^/]+\/callback$/, 2);
    for (const c of calls) {
      expect(c.body.type).toBe(4);
      expect((c.body.data as { flags: number }).flags & 64).toBe(64); // ephemeral
    }
    const texts = calls.map((c) => (c.body.data as { content: string }).content);
    expect(texts.some((t) => t.includes('988'))).toBe(true);
    expect(texts.some((t) => t.includes('step 1 of 5'))).toBe(true);
  });

  it('a slow /trt answer is deferred within the deadline, then edited in', async () => {
    const engine: TestEngine = {
      texts: { disclosure: 'd', help: 'h', unavailable: 'u', unsure: 'maybe' },
      crisisResponse: () => null,
      handleTurn: async (i) => {
        await pause(SLOW_COMMAND_MS);
        return answeredTurn(i.sessionId, 'You are on step 2 of 5.', { kind: 'command' });
      },
    };
    await startBot(engine);
    fake.dispatch('INTERACTION_CREATE', slashCommand('status', { channelId: DM_CHANNEL }));
    const [callback] = await fake.waitFor('POST', /^\/interactions\/\d+\/[^/]+\/callback$/);
    expect(callback!.body.type).toBe(5); // deferred, ephemeral
    const [edit] = await fake.waitFor('PATCH', /@original$/, 1, 5000);
    expect(edit!.body.content).toBe('You are on step 2 of 5.');
  });

  it('a 429 is honoured (Retry-After) on that channel without holding up another', async () => {
    await startBot();
    const other = '600000000000000002';
    fake.rateLimits.set(new RegExp(`^/channels/${DM_CHANNEL}/messages$`), { times: 1, retryAfter: 1 });
    fake.dispatch('MESSAGE_CREATE', dmMessage('hello'));
    await fake.waitFor('POST', new RegExp(`^/channels/${DM_CHANNEL}/messages$`), 1);
    fake.dispatch('MESSAGE_CREATE', message({ channel_id: other, content: 'hello', author: person('400000000000000002') }));
    await fake.waitFor('POST', new RegExp(`^/channels/${other}/messages$`), 1);
    const retried = await fake.waitFor('POST', new RegExp(`^/channels/${DM_CHANNEL}/messages$`), 2, 5000);
    const otherPost = fake.of('POST', new RegExp(`^/channels/${other}/messages$`))[0]!;
    expect(otherPost.at).toBeLessThan(retried[1]!.at); // the other DM did not wait
    expect(retried[1]!.at - retried[0]!.at).toBeGreaterThanOrEqual(900);
  });

  it('a gateway reconnect (op 7) in the middle of a conversation resumes and continues the same session', async () => {
    await startBot();
    fake.dispatch('MESSAGE_CREATE', dmMessage('hello'));
    await fake.waitFor('POST', new RegExp(`^/channels/${DM_CHANNEL}/messages$`), 1);
    fake.requestReconnect();
    await fake.ready();
    expect(fake.resumes).toBe(1);
    fake.dispatch('MESSAGE_CREATE', dmMessage('I want to feel calm'));
    const posts = await fake.waitFor('POST', new RegExp(`^/channels/${DM_CHANNEL}/messages$`), 2);
    expect(String(posts[1]!.body.content)).toContain('calm');
  });
});

describe('Discord through the Redis queue', () => {
  it('a receiver queues a DM and a worker with only REST (no gateway) answers it, once per message id', async () => {
    const prefix = uniquePrefix();
    const redis = client();
    const queue = new RedisTurnQueue({ client: redis, prefix });
    fake = new FakeDiscord();
    const apiUrl = await fake.start();
    const { engine } = makeEngine();
    runner = createDiscordClient({ token: 'fake.discord.token', apiUrl }, { engine, marks: new RedisMarks(redis, prefix), logger: silentLogger, queue });
    await runner.start();
    await fake.ready();
    const worker = new QueueWorker({
      queue: new RedisTurnQueue({ client: client(), prefix }),
      reader: client(),
      runner: { engine, outlets: { discord: createDiscordOutlet({ token: 'fake.discord.token', apiUrl }, silentLogger, 100) }, logger: silentLogger },
      logger: silentLogger,
      blockMs: 200,
    });
    await worker.start();
    const m = dmMessage('hello');
    fake.dispatch('MESSAGE_CREATE', m);
    fake.dispatch('MESSAGE_CREATE', m); // a replay (e.g. after RESUME): the same message id
    const [post] = await fake.waitFor('POST', new RegExp(`^/channels/${DM_CHANNEL}/messages$`));
    expect(String(post!.body.content)).toContain('automated self-help guide');
    await pause(QUEUE_QUIET_MS);
    expect(fake.of('POST', new RegExp(`^/channels/${DM_CHANNEL}/messages$`))).toHaveLength(1);
    expect(worker.stats.turns).toBe(1); // the standalone worker answered (the receiver has no worker)
    await worker.stop(1000);
    redis.disconnect();
    await cleanup(prefix);
  });
});
