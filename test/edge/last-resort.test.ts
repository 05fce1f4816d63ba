/** The process's last-resort policy: log a code (never a message), count, keep serving, give up only when errors keep coming. */
import { describe, expect, it } from 'vitest';
import { lastResortHandlers } from '../../adapters/last-resort.js';

function recorder() {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg?: string | undefined }> = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('last-resort error policy', () => {
  it('logs and counts an unhandled rejection and an uncaught exception by code, without their messages, and keeps serving', () => {
    const { lines, logger } = recorder();
    const counted: string[] = [];
    let gaveUp = 0;
    const h = lastResortHandlers({ logger, count: (k) => counted.push(k), onTooMany: () => gaveUp++ });
    h.onRejection(Object.assign(new Error('I want to end it all'), { code: 'ECONNRESET' }));
    h.onException(new TypeError("Cannot read properties of null (reading 'ssl_check') my secret words"));
    expect(counted).toEqual(['unhandled_rejection', 'uncaught_exception']);
    expect(gaveUp).toBe(0);
    expect(lines.map((l) => l.obj.err)).toEqual(['ECONNRESET', 'TypeError']);
    const text = JSON.stringify(lines);
    expect(text).not.toContain('end it all');
    expect(text).not.toContain('secret words');
    expect(String(lines[1]!.obj.where)).toMatch(/last-resort\.test\.ts:\d+:\d+$/); // where to look, not what was said
  });

  it('shuts down once when more than the limit arrive within a minute', () => {
    const { logger } = recorder();
    let gaveUp = 0;
    const h = lastResortHandlers({ logger, maxPerMinute: 3, onTooMany: () => gaveUp++ });
    for (let i = 0; i < 3; i++) h.onException(new Error('x'));
    expect(gaveUp).toBe(0);
    h.onException(new Error('x'));
    h.onException(new Error('x'));
    expect(gaveUp).toBe(1);
  });
});
