/** Markdown to Slack mrkdwn (splitting lives in ../common/split-message.ts). */
export { splitMessage } from '../common/split-message.js';

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
