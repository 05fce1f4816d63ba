/**
 * The process's last-resort policy for errors nothing else caught.
 *
 * - An unhandled promise rejection is logged (its code, never its message, which may
 *   quote a request), counted, and the process keeps serving: a rejection is one failed
 *   operation, and everything the bot holds (sessions, the queue) is in Redis.
 * - An uncaught exception is logged and counted the same way, and the process keeps
 *   serving too: each request and each queued turn is already handled in its own
 *   try/catch, so what reaches here comes from a library callback (a socket, a timer)
 *   and leaves the bot's own state intact. If they keep coming (more than
 *   `maxPerMinute`), something is broken for good: the process shuts down (exit code 1),
 *   so its supervisor starts a fresh one, and the queue hands its turns on.
 * - Node's own warnings (deprecations, listener leaks) go through the JSON logger too,
 *   instead of plain text on stderr.
 */
import { errorCode } from '../src/index.js';
import type { Logger } from '../src/index.js';

export interface LastResortOptions {
  logger: Logger;
  count?: (kind: 'uncaught_exception' | 'unhandled_rejection') => void;
  /** Uncaught exceptions tolerated within a minute before shutting down. Default 10. */
  maxPerMinute?: number;
  /** Called once when there were too many (the caller stops and exits 1). */
  onTooMany: () => void;
}

/** The handlers, apart from installing them (tests call them directly). */
export function lastResortHandlers(opts: LastResortOptions) {
  const max = opts.maxPerMinute ?? 10;
  const recent: number[] = [];
  let gaveUp = false;
  const onRejection = (reason: unknown) => {
    opts.count?.('unhandled_rejection');
    opts.logger.error({ err: errorCode(reason), kind: 'unhandled_rejection' }, 'unhandled promise rejection; still serving');
  };
  const onException = (err: unknown) => {
    opts.count?.('uncaught_exception');
    const now = Date.now();
    recent.push(now);
    while (recent.length > 0 && recent[0]! < now - 60_000) recent.shift();
    const tooMany = recent.length > max;
    opts.logger.error({ err: errorCode(err), kind: 'uncaught_exception', where: whereFrom(err), lastMinute: recent.length }, tooMany ? 'uncaught exceptions keep coming; shutting down' : 'uncaught exception; still serving');
    if (tooMany && !gaveUp) {
      gaveUp = true;
      opts.onTooMany();
    }
  };
  const onWarning = (w: Error & { code?: string }) => opts.logger.warn({ warning: w.name, code: w.code }, 'Node.js warning');
  return { onRejection, onException, onWarning };
}

export function installLastResort(opts: LastResortOptions): () => void {
  const { onRejection, onException, onWarning } = lastResortHandlers(opts);
  // Node prints warnings to stderr from a default listener: replaced by the logger's line.
  const defaults = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  process.on('warning', onWarning);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    process.off('warning', onWarning);
    for (const l of defaults) process.on('warning', l);
  };
}

/** The first stack frame's file and line (never the message): where to look, without what was said. */
function whereFrom(err: unknown): string | undefined {
  const stack = err instanceof Error ? err.stack : undefined;
  const frame = stack?.split('\n').find((l) => l.trimStart().startsWith('at '));
  const m = frame?.match(/\(?((?:file:\/\/)?\/[^\s():]+:\d+:\d+)\)?\s*$/);
  return m?.[1];
}
