/**
 * Progress for command-line tools: a cli-progress bar on a terminal; off a
 * terminal (CI logs, pipes) one plain line each time another 10% is done or 5 s
 * have passed, whichever comes first, so a log shows the run is alive without
 * being flooded by a redrawn bar.
 */
import { Presets, SingleBar } from 'cli-progress';

/** A running progress display. */
export interface Progress {
  /** Reports `done` of the total. */
  update(done: number): void;
  /** Ends the display (final line off a terminal). */
  stop(): void;
}

/** Options of startProgress. */
export interface ProgressOptions {
  /** Where to draw (default process.stderr). */
  stream?: NodeJS.WriteStream;
  /** Whether to show anything (default true). */
  enabled?: boolean;
  /** Seconds between lines off a terminal when 10% steps are slower (default 5). */
  lineEverySeconds?: number;
}

/** Starts a progress display for `total` units of `label`. */
export function startProgress(label: string, total: number, opts: ProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.enabled === false || total <= 0) return { update: () => {}, stop: () => {} };
  if (stream.isTTY) {
    const bar = new SingleBar({ format: `${label} [{bar}] {value}/{total} | ETA {eta_formatted}`, stream, clearOnComplete: false }, Presets.shades_classic);
    bar.start(total, 0);
    return { update: (done) => bar.update(Math.min(done, total)), stop: () => bar.stop() };
  }
  const every = (opts.lineEverySeconds ?? 5) * 1000;
  const started = performance.now();
  let lastAt = started;
  let nextTenth = 1;
  let last = 0;
  const line = (done: number) => {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    stream.write(`${label}: ${done}/${total} (${Math.floor((100 * done) / total)}%) ${seconds} s\n`);
    lastAt = performance.now();
  };
  return {
    update(done) {
      last = Math.min(done, total);
      if (last >= total) return; // stop() writes the final line
      const tenth = Math.floor((10 * last) / total);
      if (tenth >= nextTenth) {
        nextTenth = tenth + 1;
        line(last);
      } else if (performance.now() - lastAt >= every) line(last);
    },
    stop() {
      line(last);
    },
  };
}
