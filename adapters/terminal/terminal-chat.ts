/**
 * The terminal chat: the reference adapter. It maps the local user to the
 * session `console:<user>`, hands each line to the engine and prints what
 * comes back. Interactive on a TTY (with a prompt); with piped input it reads
 * one message per line, writes each reply to stdout and exits at end of input.
 */
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Engine } from '../../src/index.js';
import { pipedLines } from './piped-lines.js';
import { WordWrap, wrapWidth } from './word-wrap.js';

export interface TerminalChatOptions {
  engine: Pick<Engine, 'handleTurn'>;
  user: string;
  input: Readable;
  output: Writable;
  /** Show a prompt and a greeting (TTY). */
  interactive: boolean;
  /** Columns to wrap replies at. Default: the output's width when it is a TTY; piped output is never wrapped. */
  columns?: number | undefined;
}

/** Session id of the terminal user. */
export function consoleSessionId(user: string): string {
  return `console:${user}`;
}

export const GREETING = 'Type a message and press Enter. "help" lists commands; Ctrl+C twice or Ctrl+D quits.';
export const QUIT_HINT = '(To quit, press Ctrl+C again or Ctrl+D.)';

/** Runs until end of input (or Ctrl+C twice); resolves with the number of messages handled. */
export async function runTerminalChat(opts: TerminalChatOptions): Promise<number> {
  const { engine, user, input, output, interactive } = opts;
  const sessionId = consoleSessionId(user);
  const rl = interactive ? createInterface({ input, output, terminal: true }) : undefined;
  if (rl) {
    output.write(`${GREETING}\n`);
    rl.setPrompt('you> ');
    quitOnSecondInterrupt(rl, input, output);
    rl.prompt();
  }
  let handled = 0;
  // Piped input breaks messages at newlines only: a bare carriage return inside a line is part of
  // the message (readline would have cut the message there).
  const lines: AsyncIterable<string> = rl ?? pipedLines(input);
  // Lines are handled one at a time, in order: the next waits for the reply to the previous.
  for await (const line of lines) {
    const columns = opts.columns ?? wrapWidth(output);
    const wrap = columns ? new WordWrap((t) => output.write(t), columns) : undefined;
    const write = (text: string) => (wrap ? wrap.write(text) : output.write(text));
    // In a terminal an LLM reply is printed as it is written; piped output gets whole replies only.
    let shown = '';
    const preview = (text: string) => {
      if (!text.startsWith(shown)) return;
      write(shown ? text.slice(shown.length) : `\nguide> ${text}`);
      shown = text;
    };
    const result = await engine.handleTurn({ sessionId, userId: user, platform: 'console', text: line }, interactive ? { preview } : {});
    if (result.reply !== null) {
      handled++;
      if (!interactive) write(result.reply);
      else if (shown && result.reply.startsWith(shown)) write(result.reply.slice(shown.length));
      else write(`${shown ? '\n(that reply was withdrawn)' : ''}\nguide> ${result.reply}`);
      wrap?.end();
      output.write(interactive ? '\n\n' : '\n');
    }
    if (rl && !closed(rl)) rl.prompt();
  }
  if (rl) output.write('\nGoodbye.\n');
  return handled;
}

/**
 * Ctrl+C clears a half-typed line instead of throwing it away with the process; a second
 * Ctrl+C in a row (or Ctrl+D on an empty line) ends the chat, with "Goodbye." and exit code 0.
 * A turn in progress still gets its reply printed before the chat ends.
 */
function quitOnSecondInterrupt(rl: Interface, input: Readable, output: Writable): void {
  let armed = false;
  rl.on('SIGINT', () => {
    if (armed) {
      rl.close();
      return;
    }
    armed = true;
    // Move to the end of the line and delete back to its start: the half-typed text is gone.
    rl.write(null, { ctrl: true, name: 'e' });
    rl.write(null, { ctrl: true, name: 'u' });
    output.write(`\n${QUIT_HINT}\n`);
    rl.prompt();
  });
  // Any other key in between: the next Ctrl+C clears again instead of quitting.
  input.on('keypress', (_s: unknown, key: { ctrl?: boolean; name?: string } | undefined) => {
    if (!(key?.ctrl && key.name === 'c')) armed = false;
  });
}

function closed(rl: Interface): boolean {
  return (rl as Interface & { closed?: boolean }).closed === true;
}
