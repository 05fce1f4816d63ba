/**
 * `npm run demo:discord`: the Discord bot as it runs in production (the real discord.js Client
 * on the gateway and REST, the adapter's listeners, queue and outlet, the engine from
 * createEngine) against the project's local fake Discord (test/fakes/discord.ts, the real
 * gateway and REST protocol). The prompt plays the person in a DM; the screen shows what
 * Discord would: "typing…", the reply as it is written (one message edited in place), the
 * final reply. No account, no token, no network. A developer demo, never imported by src/ or
 * adapters/.
 */
import { createDiscordClient } from '../../adapters/discord/discord-app.js';
import { FakeDiscord, message, person, type DiscordMessage } from '../../test/fakes/discord.js';
import { EXIT, ReplyTracker, backendsLine, demoProgram, duration, LLM_OPTION_HELP, startDemoEngine } from './demo-core.js';
import { Transcript } from './transcript.js';

/** The DM channel between the person and the bot (a snowflake, as Discord gives). */
const DM_CHANNEL = '600000000000000001';
const PLACE = 'DM with Guide';
/** How a preview (a reply still being written) ends in Discord. */
const WRITING = ' …';

const program = demoProgram(
  'demo:discord',
  'The Discord bot (real discord.js Client) against a local fake Discord: you type as the person in a DM and see the bot\'s messages as Discord shows them. No account or network needed.',
  `
Each line is a direct message from you to the bot. ":quit" ends (so do Ctrl+C and Ctrl+D).
Piped input is one message per line and ends at end of input, e.g.
  printf 'hello\\nI want to feel calm\\n' | npm run demo:discord --silent
  npm run demo:discord -- --llm    (replies from a fake model, posted and then edited as it writes)`,
)
  .option('--llm', LLM_OPTION_HELP)
  .parse();

function change(kind: 'posted' | 'edited' | 'deleted', m: DiscordMessage): string {
  if (kind === 'deleted') return 'Guide · ✗ message deleted';
  const state = m.content.endsWith(WRITING) ? ' (still writing)' : '';
  return kind === 'posted' ? `Guide · new message${state}` : `Guide · ✎ edited${state}`;
}

async function main(): Promise<number> {
  const opts = program.opts<{ llm?: boolean }>();
  const demo = await startDemoEngine({ llm: Boolean(opts.llm) });
  if (typeof demo === 'number') return demo;
  const { setup, settings, logger } = demo;
  const screen = new Transcript(process.stdout);
  const tracker = new ReplyTracker((ms) => screen.note(`✓ replied, ${duration(ms)} after the message`));
  const fake = new FakeDiscord();
  const apiUrl = await fake.start();
  // "typing" is renewed every few seconds while a turn runs: shown once per message, not each time.
  let typingShown = true;
  fake.onTyping = () => {
    if (typingShown) return;
    typingShown = true;
    screen.note('Guide is typing…');
  };
  fake.onChange = (kind, m) => {
    typingShown = true; // a message from the bot ends "typing…"; a late typing call is not news
    screen.entry(PLACE, change(kind, m), kind === 'deleted' ? undefined : m.content);
  };
  const runner = createDiscordClient(
    { token: 'fake.discord.token.for.the.demo', apiUrl },
    {
      engine: tracker.wrap(setup.engine),
      marks: setup.marks,
      logger,
      limits: setup.limits,
      limitedReply: setup.limitedReply,
      orderWindowMs: settings.QUEUE_ORDER_WINDOW_MS,
      metrics: tracker.metrics,
    },
  );
  try {
    await runner.start();
    await fake.ready();
    const interactive = Boolean(process.stdin.isTTY);
    const you = person();
    screen.say(`demo:discord: the Discord adapter (discord.js, gateway and REST) against a local fake Discord, ready in ${duration(process.uptime() * 1000)} (since the process started)`);
    screen.say(backendsLine(setup.engine, Boolean(opts.llm)));
    screen.say(`You are @${you.username}, in a DM with Guide.`);
    if (interactive) screen.say('":quit" (or Ctrl+D) ends.');
    await screen.prompt(process.stdin, interactive, async (line) => {
      if (line === ':quit') return 'quit';
      screen.entry(PLACE, 'you', line);
      typingShown = false;
      fake.dispatch('MESSAGE_CREATE', message({ channel_id: DM_CHANNEL, content: line, author: you }));
      if (!(await tracker.sentOne())) screen.note('(no reply within 60 s; going on)');
    });
  } finally {
    await runner.stop().catch(() => undefined);
    await demo.close().catch(() => undefined);
    await fake.stop();
  }
  return EXIT.ok;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`demo:discord: unexpected error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = EXIT.error;
  },
);
