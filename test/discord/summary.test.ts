/**
 * `summary` and `breathe` on Discord: as a DM message and as the `/trt summary` / `/trt breathe`
 * interaction, on the real discord.js Client against the local fake Discord (REST + gateway);
 * once through the Redis queue and Redis sessions (a key prefix per test).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDiscordClient, type DiscordRunner } from '../../adapters/discord/discord-app.js';
import { createDiscordOutlet } from '../../adapters/discord/outlet.js';
import { MemoryMarks, QueueWorker, RedisMarks, RedisSessionStore, RedisTurnQueue, silentLogger, type Engine, type Marks, type TurnQueue } from '../../src/index.js';
import { APP_ID, FakeDiscord, GUILD_ID, TEXT_CHANNEL_ID, message, person, slashCommand } from '../fakes/discord.js';
import { makeEngine, repoConfig, ROOT } from '../helpers.js';
import { cleanup, client, uniquePrefix } from '../redis/helpers.js';
import { until } from '../wait.js';

let runner: DiscordRunner | undefined;
let fake: FakeDiscord | undefined;
afterEach(async () => {
  await runner?.stop();
  await fake?.stop();
  runner = fake = undefined;
});

async function startBot(opts: { engine?: Pick<Engine, 'handleTurn' | 'texts' | 'crisisResponse'>; marks?: Marks; queue?: TurnQueue } = {}) {
  fake = new FakeDiscord();
  const apiUrl = await fake.start();
  runner = createDiscordClient(
    { token: 'fake.discord.token', apiUrl },
    { engine: opts.engine ?? makeEngine().engine, marks: opts.marks ?? new MemoryMarks(), logger: silentLogger, typingEveryMs: 100, ...(opts.queue ? { queue: opts.queue } : {}) },
  );
  await runner.start();
  await fake.ready();
  return { fake, runner, apiUrl };
}

const happy = JSON.parse(readFileSync(join(ROOT, 'test', 'conversations', 'happy_path.json'), 'utf8')) as { turns: Array<{ say: string; action?: string }> };
/** What the person says up to and including the handover (the end of stage 1). */
const TO_HANDOVER = happy.turns.slice(0, happy.turns.findIndex((t) => t.action === 'handover') + 1).map((t) => t.say);
/** Up to the vision's "may I explain?": mid-stage. */
const MID_STAGE = TO_HANDOVER.slice(0, 4);
const REST = TO_HANDOVER.slice(4);
const FOUND_AT_END = ['you want to feel calm and present', 'it lives in your chest', 'it starts when an email pings', 'your body felt lighter'];
const RELAXATION = "Here's the short relaxation again.";
const END_OF_STAGE = "That's everything for the first stage.";
const EXPLANATIONS = repoConfig().responses.actions.explain_survival_response;
const EPHEMERAL = 64;

/** A person DMing the bot in `channel`: each message waits for the reply it gets. */
function dmConversation(f: FakeDiscord, channel: string) {
  const author = person();
  return async (content: string): Promise<string> => {
    const before = f.visible(channel).length;
    f.dispatch('MESSAGE_CREATE', message({ channel_id: channel, content, author }));
    const reply = await until(() => f.visible(channel)[before], {
      timeoutMs: 10_000,
      what: () => `the reply to ${JSON.stringify(content)} in ${channel}; visible: ${JSON.stringify(f.visible(channel).map((m) => m.content.slice(0, 60)))}`,
    });
    return reply.content;
  };
}

/** Sends `/trt <sub>` and returns its answer: the immediate reply, or the deferral's edit. Checks it is ephemeral. */
async function trt(f: FakeDiscord, sub: string, where: { channelId: string; guildId?: string }): Promise<string> {
  const i = slashCommand(sub, where);
  f.dispatch('INTERACTION_CREATE', i);
  const [callback] = await until(() => f.callbacksFor(i.id).length > 0 && f.callbacksFor(i.id), { timeoutMs: 10_000, what: `the answer to /trt ${sub}` });
  const data = callback!.body.data as { flags?: number; content?: string };
  expect((data.flags ?? 0) & EPHEMERAL).toBe(EPHEMERAL);
  if (callback!.body.type === 4) return data.content!;
  expect(callback!.body.type).toBe(5); // deferred: the answer is edited in
  const edit = new RegExp(`^/webhooks/${APP_ID}/${i.token}/messages/@original$`);
  const [patched] = await f.waitFor('PATCH', edit, 1, 10_000);
  return String(patched!.body.content);
}

const DM_CHANNEL = '600000000000000101';

describe('Discord (real discord.js Client): summary', () => {
  it('a DM "summary" mid-stage and at the end of stage 1; /trt summary in the DM answers the same, ephemerally', async () => {
    const { fake: f } = await startBot();
    const say = dmConversation(f, DM_CHANNEL);
    for (const line of MID_STAGE) await say(line);

    const mid = await say('summary');
    expect(mid).toContain('you want to feel calm and present');
    expect(mid).toContain('Still open:');
    expect(await trt(f, 'summary', { channelId: DM_CHANNEL })).toBe(mid);

    for (const line of REST) await say(line);
    const end = await say('summary');
    for (const s of FOUND_AT_END) expect(end).toContain(s);
    expect(end).toContain(END_OF_STAGE);
    expect(end).not.toContain('Still open');
    expect(await trt(f, 'summary', { channelId: DM_CHANNEL })).toBe(end);
    // The interactions were answered ephemerally: nothing more was posted in the DM for them.
    expect(f.visible(DM_CHANNEL)).toHaveLength(TO_HANDOVER.length + 2);
  });

  it('/trt summary as the first thing in a DM says nothing has been gathered yet', async () => {
    const { fake: f } = await startBot();
    expect(await trt(f, 'summary', { channelId: '600000000000000102' })).toContain(repoConfig().responses.summary!.nothing_yet);
  });

  it('/trt summary in a server channel that is not our thread points to DMs or the thread', async () => {
    const { fake: f } = await startBot();
    const answer = await trt(f, 'summary', { channelId: TEXT_CHANNEL_ID, guildId: GUILD_ID });
    expect(answer).toContain('Use this command in our direct messages or in the thread where we talk.');
    expect(answer).not.toContain('Still open');
  });
});

describe('Discord (real discord.js Client): breathe', () => {
  it('a DM "breathe" and /trt breathe replay the relaxation; the next DM continues where the conversation was', async () => {
    const { fake: f } = await startBot();
    const channel = '600000000000000103';
    const say = dmConversation(f, channel);
    for (const line of MID_STAGE) await say(line);
    expect((await say('breathe')).startsWith(RELAXATION)).toBe(true);
    expect((await trt(f, 'breathe', { channelId: channel })).startsWith(RELAXATION)).toBe(true);
    expect(EXPLANATIONS).toContain(await say(REST[0]!)); // "sure, go ahead": the explanation, as without breathe
  });
});

describe('Discord through the Redis queue with Redis sessions', () => {
  it('a DM "summary" mid-stage and at the end of stage 1, and "breathe", answered by a worker with only REST', async () => {
    const prefix = uniquePrefix();
    const redis = client();
    const reader = client();
    const store = new RedisSessionStore({ client: redis, prefix });
    const { engine } = makeEngine({ store });
    const { fake: f, apiUrl } = await startBot({ engine, marks: new RedisMarks(redis, prefix), queue: new RedisTurnQueue({ client: redis, prefix }) });
    const worker = new QueueWorker({
      queue: new RedisTurnQueue({ client: redis, prefix }),
      reader,
      runner: { engine, outlets: { discord: createDiscordOutlet({ token: 'fake.discord.token', apiUrl }, silentLogger, 100) }, logger: silentLogger },
      logger: silentLogger,
      blockMs: 200,
    });
    await worker.start();
    const channel = '600000000000000104';
    try {
      const dm = dmConversation(f, channel);
      // The person answers the moment a reply shows, as a fast typist does: a message landing
      // while the worker acknowledges the last turn is claimed at once, not after the claim idle
      // time (it was: 3 s, seen as reclaimed turns).
      const say = (text: string) => dm(text);
      for (const line of MID_STAGE) await say(line);
      const mid = await say('summary');
      expect(mid).toContain('you want to feel calm and present');
      expect(mid).toContain('Still open:');
      expect((await say('breathe')).startsWith(RELAXATION)).toBe(true);
      for (const line of REST) await say(line);
      const end = await say('summary');
      for (const s of FOUND_AT_END) expect(end).toContain(s);
      expect(end).toContain(END_OF_STAGE);
      // /trt runs on the same Redis session.
      expect(await trt(f, 'summary', { channelId: channel })).toBe(end);
      const said = [...MID_STAGE, 'summary', 'breathe', ...REST, 'summary', 'summary'];
      // (recorded once delivered, so possibly a moment after the person saw it)
      const history = await until(
        async () => {
          const h = await store.history(`discord:dm:${channel}`, 100);
          return h.length >= said.length * 2 && h;
        },
        { timeoutMs: 5000, what: 'the last turn to be recorded in Redis' },
      );
      expect(history.filter((h) => h.role === 'user').map((h) => h.text)).toEqual(said);
      expect(worker.stats.turns).toBe(said.length - 1); // every DM through the worker; /trt answered in place
      expect(worker.stats.reclaimed).toBe(0);
    } finally {
      await worker.stop(1000);
      redis.disconnect();
      reader.disconnect();
      await cleanup(prefix);
    }
  });
});
