/**
 * Wraps text at word boundaries as it is written, chunk by chunk, so a streamed reply wraps
 * like a whole one: a terminal left to itself splits a long reply mid-word at its edge.
 * A word is held until the space after it shows where it ends; `end()` writes the last one.
 * Widths count code points (a wide CJK character or an emoji counts as one column: rare in
 * this bot's replies, and the cost is a line that runs a little long, never a lost character).
 */
export class WordWrap {
  private col = 0;
  private word = '';
  private gap = '';

  /** `width`: the columns a line may fill (at least 10; less is taken as 10). */
  constructor(
    private readonly out: (text: string) => void,
    private readonly width: number,
  ) {
    this.width = Math.max(10, Math.floor(width));
  }

  write(text: string): void {
    for (const ch of text) {
      if (ch === '\n') {
        this.flushWord();
        this.gap = ''; // spaces at the end of a line are not written
        this.out('\n');
        this.col = 0;
      } else if (ch === ' ' || ch === '\t') {
        this.flushWord();
        this.gap += ' ';
      } else {
        this.word += ch;
      }
    }
  }

  /** Writes the word still held (the text ended without a space after it). */
  end(): void {
    this.flushWord();
    this.gap = '';
  }

  private flushWord(): void {
    if (!this.word) return;
    const word = [...this.word];
    this.word = '';
    if (this.col > 0 && this.col + this.gap.length + word.length > this.width) {
      this.out('\n');
      this.col = 0;
    } else if (this.col > 0 || this.gap) {
      this.out(this.gap);
      this.col += this.gap.length;
    }
    this.gap = '';
    // A word longer than a line (a URL) is cut at the edge: there is no boundary to wrap at.
    let rest = word;
    while (this.col + rest.length > this.width) {
      const room = this.width - this.col;
      this.out(rest.slice(0, room).join('') + '\n');
      rest = rest.slice(room);
      this.col = 0;
    }
    this.out(rest.join(''));
    this.col += rest.length;
  }
}

/** The columns to wrap at on `output`: its width less one (a line that fills the last column makes some terminals add a blank one), or undefined off a TTY. */
export function wrapWidth(output: unknown): number | undefined {
  const o = output as { isTTY?: boolean; columns?: number };
  return o.isTTY && o.columns && o.columns > 0 ? o.columns - 1 : undefined;
}
