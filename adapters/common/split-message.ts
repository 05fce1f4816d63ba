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
    for (const sentence of paragraph.split(/(?<=[.!?])\s+/)) {
      if (sentence.length <= max) {
        push(sentence, ' ');
        continue;
      }
      for (const word of sentence.split(/\s+/)) {
        for (let i = 0; i < word.length; i += max) push(word.slice(i, i + max), ' '); // a "word" longer than max is cut
      }
    }
  }
  if (current.length > 0) pieces.push(current);
  return pieces;
}
