import { describe, expect, it } from 'vitest';
import { placeOf, withoutMention } from '../../adapters/slack/conversation.js';
import { splitMessage, toMrkdwn } from '../../adapters/slack/mrkdwn.js';

describe('Markdown to mrkdwn', () => {
  it('converts bold, italics, links, headings, strikethrough and bullets, and escapes &<>', () => {
    expect(toMrkdwn('**calm** and *present*')).toBe('*calm* and _present_');
    expect(toMrkdwn('see [the lines](https://findahelpline.com) now')).toBe('see <https://findahelpline.com|the lines> now');
    expect(toMrkdwn('## Breathing')).toBe('*Breathing*');
    expect(toMrkdwn('~~old~~ - one\n- two')).toBe('~old~ - one\n• two');
    expect(toMrkdwn('a < b & c > d')).toBe('a &lt; b &amp; c &gt; d');
  });

  it('handles the edge cases: bold italic, bold in headings, links with parentheses, __init__, quotes', () => {
    expect(toMrkdwn('***both***')).toBe('*_both_*');
    expect(toMrkdwn('# Title **b**')).toBe('*Title b*');
    expect(toMrkdwn('[Fight](https://en.wikipedia.org/wiki/Fight_(disambiguation))')).toBe('<https://en.wikipedia.org/wiki/Fight_(disambiguation)|Fight>');
    expect(toMrkdwn('call my__init__func here')).toBe('call my__init__func here'); // intraword underscores are not emphasis
    expect(toMrkdwn('> a quote')).toBe('> a quote');
  });
});

describe('splitting', () => {
  it('keeps short text whole, and splits a long paragraph at sentence boundaries', () => {
    expect(splitMessage('short', 3500)).toEqual(['short']);
    const sentence = 'Breathe in slowly and notice your shoulders. ';
    const paragraph = sentence.repeat(120).trim(); // one ~5,400-character paragraph
    const pieces = splitMessage(paragraph, 3500);
    expect(pieces.length).toBe(2);
    for (const p of pieces) {
      expect(p.length).toBeLessThanOrEqual(3500);
      expect(p.endsWith('.')).toBe(true);
    }
    expect(pieces.join(' ')).toBe(paragraph);
  });

  it('keeps line breaks inside a long paragraph (a list) and paragraph breaks between pieces', () => {
    const list = Array.from({ length: 80 }, (_, i) => `- item number ${i} is here.`).join('\n'); // one ~2,000-character paragraph
    const text = `Intro paragraph.\n\n${list}`;
    const pieces = splitMessage(text, 1000);
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(1000);
    expect(pieces.join(' ').replace(/\s+/g, ' ')).toBe(text.replace(/\s+/g, ' ')); // nothing lost or reordered
    expect(pieces[0]!.startsWith('Intro paragraph.\n\n- item number 0')).toBe(true); // the paragraph break kept
    for (const p of pieces) expect(p).not.toMatch(/\. - item/); // list items stay on their own lines
  });

  it('cuts a run of text with no boundaries at the limit rather than exceed it', () => {
    const pieces = splitMessage('x'.repeat(8000), 3500);
    expect(pieces.map((p) => p.length)).toEqual([3500, 3500, 1000]);
  });
});

describe('sessions', () => {
  it('maps DMs, DM threads and channel threads to the documented session ids', () => {
    expect(placeOf({ team: 'T', channel: 'D1', ts: '1.1', channel_type: 'im' })).toMatchObject({ sessionId: 'slack:T:D1', threadTs: undefined, isDm: true });
    expect(placeOf({ team: 'T', channel: 'D1', ts: '1.2', thread_ts: '1.1', channel_type: 'im' })).toMatchObject({ sessionId: 'slack:T:D1:1.1', threadTs: '1.1' });
    expect(placeOf({ team: 'T', channel: 'C1', ts: '2.1', channel_type: 'channel' })).toMatchObject({ sessionId: 'slack:T:C1:2.1', threadTs: '2.1', isDm: false });
    expect(placeOf({ team: 'T', channel: 'C1', ts: '2.5', thread_ts: '2.1' })).toMatchObject({ sessionId: 'slack:T:C1:2.1', threadTs: '2.1' });
    expect(withoutMention('<@UBOT> reset', 'UBOT')).toBe('reset');
  });
});
