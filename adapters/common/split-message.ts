/**
 * Splitting long replies for platforms with a message size limit (Slack: we
 * keep under 3,500 characters; Discord: 2,000), at paragraph, then sentence,
 * then word boundaries, so nothing is lost and nothing is reordered.
 */

/** Splits text into pieces of at most `max` characters, at paragraph, then sentence, then word boundaries. */
export function splitMessage(text: string, max: number): string[] {
  if (text.length <= max) return [text];
  const pieces: string[] = [];
  let current = '';
  // Adds a unit with the separator that stood before it in the original, so layout survives.
  const push = (unit: string, sep: string) => {
    if (current.length === 0) current = unit;
    else if (current.length + sep.length + unit.length <= max) current += sep + unit;
    else {
      pieces.push(current);
      current = unit;
    }
  };
  for (const paragraph of text.split(/\n{2,}/)) {
    if (paragraph.length <= max) {
      push(paragraph, '\n\n');
      continue;
    }
    // Sentences, each with the whitespace that followed it (a space, or a line break in a list).
    const parts = paragraph.split(/(?<=[.!?])(\s+)|(\n)/).filter((p) => p !== undefined && p !== '');
    let sep = '\n\n';
    for (const part of parts) {
      if (/^\s+$/.test(part)) {
        sep = part.includes('\n') ? '\n' : ' ';
        continue;
      }
      if (part.length <= max) push(part, sep);
      else {
        const words = part.split(/ +/);
        words.forEach((word, i) => {
          for (let j = 0; j < word.length; j += max) push(word.slice(j, j + max), i === 0 && j === 0 ? sep : ' '); // a "word" longer than max is cut
        });
      }
      sep = ' ';
    }
  }
  if (current.length > 0) pieces.push(current);
  return pieces;
}
