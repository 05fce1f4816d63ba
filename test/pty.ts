/**
 * The bot as a person runs it in a terminal: `npm start` (or another command) inside a real
 * pseudo-terminal, through util-linux `script`, so readline is in raw mode, Ctrl+C is a key
 * and the output has a width. The test types bytes and waits for what the screen shows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';
import { until } from './wait.js';

export interface Pty {
  /** Everything written to the terminal so far, raw (escape sequences and all). */
  readonly raw: () => string;
  /** The same, escape sequences removed and \r\n as \n: roughly what the person reads. */
  readonly screen: () => string;
  type(bytes: string): void;
  /** Waits until the screen, after `from` characters of it, contains `text`; returns the index just past it. */
  waitFor(text: string, opts?: { from?: number; timeoutMs?: number }): Promise<number>;
  /** Resolves with the exit code once the command ends. */
  exited: Promise<number | null>;
  child: ChildProcess;
}

/** Runs `command` (a shell line) in a terminal `columns` wide. */
export function inPty(command: string, opts: { cwd: string; env?: Record<string, string | undefined>; columns?: number }): Pty {
  const line = `stty cols ${opts.columns ?? 100} rows 40; exec ${command}`;
  const child = spawn('script', ['-qfec', line, '/dev/null'], { cwd: opts.cwd, env: { ...process.env, TERM: 'xterm', ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let raw = '';
  child.stdout!.on('data', (d) => (raw += d));
  child.stderr!.on('data', (d) => (raw += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const screen = () => stripVTControlCharacters(raw).replace(/\r\n/g, '\n').replace(/\r/g, '');
  return {
    raw: () => raw,
    screen,
    type: (bytes) => child.stdin!.write(bytes),
    waitFor: async (text, { from = 0, timeoutMs = 20_000 } = {}) => {
      const at = await until(() => screen().indexOf(text, from) + 1, { timeoutMs, what: () => `"${text}" on the screen; it shows:\n${screen().slice(from).slice(-1500)}` });
      return at - 1 + text.length;
    },
    exited,
    child,
  };
}
