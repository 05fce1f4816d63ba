/**
 * The terminal chat: the reference adapter. It maps the local user to the
 * session `console:<user>`, hands each line to the engine and prints what
 * comes back. Interactive on a TTY (with a prompt); with piped input it reads
 * one message per line, writes each reply to stdout and exits at end of input.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Engine } from '../../src/index.js';

export interface TerminalChatOptions {
  engine: Pick<Engine, 'handleTurn'>;
  user: string;
  input: Readable;
  output: Writable;
  /** Show a prompt and a greeting (TTY). */
  interactive: boolean;
}

/** Session id of the terminal user. */
export function consoleSessionId(user: string): string {
  return `console:${user}`;
}

/** Runs until end of input; resolves with the number of messages handled. */
export async function runTerminalChat(opts: TerminalChatOptions): Promise<number> {
  const { engine, user, input, output, interactive } = opts;
  const rl = createInterface({ input, crlfDelay: Infinity, terminal: interactive, ...(interactive ? { output } : {}) });
  const sessionId = consoleSessionId(user);
  if (interactive) {
    output.write('Type a message and press Enter. "help" lists commands; Ctrl+D quits.\n');
    rl.setPrompt('you> ');
    rl.prompt();
  }
  let handled = 0;
  // Lines are handled one at a time, in order: the next waits for the reply to the previous.
  for await (const line of rl) {
    // In a terminal an LLM reply is printed as it is written; piped output gets whole replies only.
    let shown = '';
    const preview = (text: string) => {
      if (!text.startsWith(shown)) return;
      output.write(shown ? text.slice(shown.length) : `\nguide> ${text}`);
      shown = text;
    };
    const result = await engine.handleTurn({ sessionId, userId: user, platform: 'console', text: line }, interactive ? { preview } : {});
    if (result.reply !== null) {
      handled++;
      if (!interactive) output.write(`${result.reply}\n`);
      else if (shown && result.reply.startsWith(shown)) output.write(`${result.reply.slice(shown.length)}\n\n`);
      else output.write(`${shown ? '\n(that reply was withdrawn)' : ''}\nguide> ${result.reply}\n\n`);
    }
    if (interactive) rl.prompt();
  }
  if (interactive) output.write('\nGoodbye.\n');
  return handled;
}
