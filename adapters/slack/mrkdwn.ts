/** Markdown to Slack mrkdwn (splitting lives in ../common/split-message.ts). */
export { splitMessage } from '../common/split-message.js';

/** Escapes the three characters Slack treats as control characters in text. */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function toMrkdwn(markdown: string): string {
  const links: string[] = [];
  // Links first (a URL may hold one level of parentheses, as Wikipedia's do).
  let out = markdown.replace(/\[([^\]]+)\]\((https?:\/\/(?:[^()\s]|\([^()\s]*\))+)\)/g, (_m, label: string, url: string) => {
    links.push(`<${url}|${escape(label)}>`);
    return `\u0000${links.length - 1}\u0000`;
  });
  out = escape(out)
    .replace(/^&gt; /gm, '> ') // a quote line stays a quote
    .replace(/^#{1,6}\s+(.+)$/gm, (_m, title: string) => `\u0001${title.replace(/\*\*|__/g, '')}\u0001`) // headings -> one bold line
    .replace(/\*\*\*(.+?)\*\*\*/g, '\u0001_$1_\u0001') // bold italic
    .replace(/\*\*(.+?)\*\*/g, '\u0001$1\u0001') // bold, protected from the italic rule
    .replace(/(^|[^\w])__(.+?)__(?=[^\w]|$)/g, '$1\u0001$2\u0001') // __bold__, but not __init__
    .replace(/(^|[^*\w])\*(?!\s)([^*\n]+?)\*(?=[^*\w]|$)/g, '$1_$2_') // *italic* -> _italic_
    .replace(/\u0001/g, '*')
    .replace(/~~(.+?)~~/g, '~$1~')
    .replace(/^(\s*)[-*+]\s+/gm, '$1• ');
  return out.replace(/\u0000(\d+)\u0000/g, (_m, i: string) => links[Number(i)]!);
}
