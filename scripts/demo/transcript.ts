/**
 * The demos' screen: every message as it appears on the platform, with the time, the place
 * (channel, thread, DM) and who wrote it; and the prompt that plays the person. Interactive on
 * a TTY; piped input is one message per line and ends at end of input.
 */
import { clearLine, createInterface, cursorTo, moveCursor, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

/** Local time of day with milliseconds: edits a fraction of a second apart stay apart. */
function clock(at = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(at.getHours())}:${p(at.getMinutes())}:${p(at.getSeconds())}.${p(at.getMilliseconds(), 3)}`;
}

const GUTTER = ' '.repeat(clock().length);

export class Transcript {
  private rl: Interface | undefined;
  /** The prompt is on screen, waiting for the person (a line printed now must redraw it). */
  private waiting = false;

  constructor(private readonly out: Writable) {}

  /** A message or an event in `where`: a header line, then the text indented beneath it. */
  entry(where: string, who: string, text?: string): void {
    const lines = [`${clock()} │ ${where} │ ${who}`];
    if (text !== undefined) for (const line of text.split('\n')) lines.push(`${GUTTER} │   ${line}`);
    this.print(lines.join('\n'));
  }

  /** A line under the last entry (the reply is complete, typing…). */
  note(text: string): void {
    this.print(`${GUTTER} │ ${text}`);
  }

  /** Plain text (the banner, hints). */
  say(text: string): void {
    this.print(text);
  }

  private print(text: string): void {
    const redraw = this.rl && this.waiting;
    if (redraw) {
      clearLine(this.out, 0);
      cursorTo(this.out, 0);
    }
    this.out.write(`${text}\n`);
    if (redraw) this.rl!.prompt(true);
  }

  /**
   * Reads the person's lines and hands each to `send`, one at a time (the next waits for the
   * reply to the previous). Blank lines are skipped; `send` returning 'quit' ends it. Ctrl+C or
   * Ctrl+D ends it on a TTY, end of input when piped. Resolves with the number of lines sent.
   */
  async prompt(input: Readable, interactive: boolean, send: (line: string) => Promise<'quit' | void>): Promise<number> {
    const rl = interactive ? createInterface({ input, output: this.out, terminal: true }) : createInterface({ input, crlfDelay: Infinity, terminal: false });
    this.rl = interactive ? rl : undefined;
    if (interactive) {
      rl.setPrompt('you> ');
      rl.on('SIGINT', () => rl.close());
      rl.prompt();
      this.waiting = true;
    }
    let sent = 0;
    for await (const raw of rl) {
      this.waiting = false;
      // The typed line is shown again in the transcript, where it went: the echo goes.
      if (interactive) {
        moveCursor(this.out, 0, -1);
        clearLine(this.out, 0);
      }
      const line = raw.trim();
      if (line) {
        if ((await send(line)) === 'quit') break;
        sent++;
      }
      if (interactive) {
        rl.prompt();
        this.waiting = true;
      }
    }
    this.waiting = false;
    rl.close();
    // The shell's prompt starts on a line of its own, not after "you> ".
    if (interactive) this.out.write('\n');
    return sent;
  }
}
