/**
 * Markdown to Slack mrkdwn, and splitting long replies at paragraph or
 * sentence boundaries (Slack shows at most ~4,000 characters a message well;
 * we stay under 3,500).
 */

/** Escapes the three characters Slack treats as control characters in text. */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function toMrkdwn(markdown: string): string {
  const links: string[] = [];
  let out = markdown.replace(/\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g, (_m, label: string, url: string) => {
    links.push(`<${url}|${escape(label)}>`);
    return `\u0000${links.length - 1}\u0000`;
  });
  out = escape(out)
    .replace(/^#{1,6}\s+(.+)$/gm, '\u0001$1\u0001') // headings -> bold line (protected from the italic rule)
    .replace(/\*\*(.+?)\*\*|__(.+?)__/g, (_m, a?: string, b?: string) => `\u0001${a ?? b}\u0001`) // bold, protected from the italic rule
    .replace(/(^|[^*\w])\*(?!\s)([^*\n]+?)\*(?=[^*\w]|$)/g, '$1_$2_') // *italic* -> _italic_
    .replace(/\u0001/g, '*')
    .replace(/~~(.+?)~~/g, '~$1~')
    .replace(/^(\s*)[-*+]\s+/gm, '$1• ');
  return out.replace(/\u0000(\d+)\u0000/g, (_m, i: string) => links[Number(i)]!);
}

/** Splits text into pieces of at most `max` characters, at paragraph, then sentence, then word boundaries. */
export function splitMessage(text: string, max = 3500): string[] {
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
