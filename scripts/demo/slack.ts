/**
 * `npm run demo:slack`: the Slack bot as it runs in production (the real Bolt app in Socket
 * Mode, the adapter's listeners, queue and outlet, the engine from createEngine) against the
 * project's local fake Slack (test/fakes/slack.ts, the real Web API and Socket Mode protocol).
 * The prompt plays the person; the screen shows the bot's messages as Slack would: in which
 * channel or thread, the "One moment…" placeholder, each edit, the final reply. No account,
 * no token, no network. A developer demo, never imported by src/ or adapters/.
 */
import { createSlackApp } from '../../adapters/slack/slack-app.js';
import { PLACEHOLDER } from '../../adapters/slack/outlet.js';
import { BOT_USER, FakeSlack, eventCallback, type SlackMessage } from '../../test/fakes/slack.js';
import { EXIT, ReplyTracker, backendsLine, demoProgram, duration, LLM_OPTION_HELP, startDemoEngine, within } from './demo-core.js';
import { Transcript } from './transcript.js';

const CHANNEL = 'C0DEMO';
const CHANNEL_NAME = '#demo';
const DM = 'D0DEMO';
const PERSON = 'U0PERSON';
/** Longest wait for Bolt's Socket Mode client to finish closing at the end. */
const CLOSE_WAIT_MS = 2000;
/** How a preview (a reply still being written) ends in Slack. */
const WRITING = ' …';

const program = demoProgram(
  'demo:slack',
  'The Slack bot (real Bolt app, Socket Mode) against a local fake Slack: you type as the person and see the bot\'s messages as Slack shows them. No account or network needed.',
  `
Each line is a message from you. The first mentions @guide in ${CHANNEL_NAME}, which starts a thread;
the next lines are replies in that thread (with --dm: messages in a direct message). Lines for the demo:
  :thread   start a new thread (a new conversation)
  :dm       switch to a direct message with the bot
  :quit     end (so do Ctrl+C and Ctrl+D)
Piped input is one message per line and ends at end of input, e.g.
  printf 'hello\\nI want to feel calm\\n' | npm run demo:slack --silent
  npm run demo:slack -- --llm     (replies from a fake model: "One moment…", then edits as it writes)`,
)
  .option('--llm', LLM_OPTION_HELP)
  .option('--dm', 'talk in a direct message instead of a channel thread')
  .parse();

let seq = 0;
/** A Slack message ts (seconds.microseconds) from the clock, unique within the demo. */
function nextTs(): string {
  const us = Date.now() * 1000 + (++seq % 1000);
  return `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
}

function placeName(channel: string, threadTs: string | undefined): string {
  if (channel === DM) return 'DM with @guide';
  return threadTs ? `${CHANNEL_NAME} › thread ${threadTs}` : CHANNEL_NAME;
}

/** What happened to a bot message, in the words a person watching Slack would use. */
function change(kind: 'posted' | 'edited' | 'deleted', m: SlackMessage): string {
  if (kind === 'deleted') return 'guide · ✗ message deleted';
  const state = m.text === PLACEHOLDER ? ' (placeholder)' : m.text.endsWith(WRITING) ? ' (still writing)' : '';
  return kind === 'posted' ? `guide · new message${state}` : `guide · ✎ edited${state}`;
}

async function main(): Promise<number> {
  const opts = program.opts<{ llm?: boolean; dm?: boolean }>();
  const demo = await startDemoEngine({ llm: Boolean(opts.llm) });
  if (typeof demo === 'number') return demo;
  const { setup, settings, logger } = demo;
  const screen = new Transcript(process.stdout);
  const tracker = new ReplyTracker((ms) => screen.note(`✓ replied, ${duration(ms)} after the message`));
  const fake = new FakeSlack();
  const apiUrl = await fake.start();
  fake.onChange = (kind, m) => screen.entry(placeName(m.channel, m.threadTs), change(kind, m), kind === 'deleted' ? undefined : m.text);
  const runner = createSlackApp(
    { botToken: 'xoxb-demo', appToken: 'xapp-demo', apiUrl, port: 0, allowChannels: true },
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
    const interactive = Boolean(process.stdin.isTTY);
    let dm = Boolean(opts.dm);
    let root: string | undefined;
    screen.say(`demo:slack: the Slack adapter (Bolt, Socket Mode) against a local fake Slack, ready in ${duration(process.uptime() * 1000)} (since the process started)`);
    screen.say(backendsLine(setup.engine, Boolean(opts.llm)));
    screen.say(dm ? 'You are in a DM with @guide.' : `You are in ${CHANNEL_NAME}: your first message mentions @guide and starts a thread.`);
    if (interactive) screen.say('":thread" starts a new thread, ":dm" switches to a DM, ":quit" (or Ctrl+D) ends.');
    await screen.prompt(process.stdin, interactive, async (line) => {
      if (line === ':quit') return 'quit';
      if (line === ':dm' || line === ':thread') {
        dm = line === ':dm';
        root = undefined;
        screen.say(dm ? '(now in a DM with @guide)' : `(your next message starts a new thread in ${CHANNEL_NAME})`);
        return;
      }
      const ts = nextTs();
      let event: Record<string, unknown>;
      if (dm) {
        event = { type: 'message', channel: DM, channel_type: 'im', user: PERSON, text: line, ts };
        screen.entry(placeName(DM, undefined), 'you', line);
      } else if (!root) {
        root = ts;
        event = { type: 'app_mention', channel: CHANNEL, user: PERSON, text: `<@${BOT_USER}> ${line}`, ts };
        screen.entry(placeName(CHANNEL, undefined), 'you · new message (starts thread ' + ts + ')', `@guide ${line}`);
      } else {
        event = { type: 'message', channel: CHANNEL, channel_type: 'channel', user: PERSON, text: line, ts, thread_ts: root };
        screen.entry(placeName(CHANNEL, root), 'you', line);
      }
      await fake.sendEnvelope('events_api', eventCallback(event));
      if (!(await tracker.sentOne())) screen.note('(no reply within 60 s; going on)');
    });
  } finally {
    await runner.stop().catch(() => undefined);
    // Bolt's client closes its socket after stop() returns; the fake must see the handshake through.
    await within(fake.disconnected(), CLOSE_WAIT_MS);
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
    process.stderr.write(`demo:slack: unexpected error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = EXIT.error;
  },
);
