/**
 * Runs `npm run demo:slack` / `demo:discord` as a newcomer would, with piped input, and reads
 * its screen back as entries (time, place, who, text) and notes ("✓ replied", "typing…").
 */
import { spawn } from 'node:child_process';
import { ROOT } from '../helpers.js';

export interface Entry {
  time: string;
  where: string;
  who: string;
  text: string;
  /** Lines under the entry that are not its text ("✓ replied…", "Guide is typing…"). */
  notes: string[];
}

export interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
  entries: Entry[];
}

/**
 * The environment a newcomer might well have: tokens, an OpenAI key and URL that lead nowhere.
 * The demo must use none of them (it would hang on, or fail against, that URL).
 */
export const NEWCOMER_ENV: Record<string, string> = {
  SLACK_BOT_TOKEN: 'xoxb-not-a-real-token',
  DISCORD_BOT_TOKEN: 'not.a.real.discord.token.at.all',
  OPENAI_API_KEY: 'sk-not-a-real-key',
  OPENAI_BASE_URL: 'http://127.0.0.1:1/v1',
};

/** `npm run demo:<which> --silent [-- args]` with `input` piped in; killed (and rejected) after `deadlineMs`. */
export function runDemo(which: 'slack' | 'discord', input: string, args: string[] = [], deadlineMs = 45_000): Promise<DemoRun> {
  const env: Record<string, string | undefined> = { ...process.env, ...NEWCOMER_ENV };
  delete env.REDIS_URL; // in-memory sessions, as on a fresh clone
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', `demo:${which}`, '--silent', ...(args.length ? ['--', ...args] : [])], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      // npm runs tsx runs node: the whole process group goes.
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
      reject(new Error(`demo:${which} still running after ${deadlineMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, deadlineMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, entries: parseEntries(stdout) });
    });
    child.stdin.end(input);
  });
}

const HEADER = /^(\d\d:\d\d:\d\d\.\d{3}) │ (.+?) │ (.+)$/;
const TEXT = /^ {12} │ {3}(.*)$/;
const NOTE = /^ {12} │ (?! {2})(.*)$/;

/** The transcript's entries in order; lines before the first (the banner) are left out. */
export function parseEntries(stdout: string): Entry[] {
  const entries: Entry[] = [];
  for (const line of stdout.split('\n')) {
    const h = HEADER.exec(line);
    if (h) {
      entries.push({ time: h[1]!, where: h[2]!, who: h[3]!, text: '', notes: [] });
      continue;
    }
    const last = entries.at(-1);
    if (!last) continue;
    const t = TEXT.exec(line);
    if (t) last.text = last.text ? `${last.text}\n${t[1]}` : t[1]!;
    else {
      const n = NOTE.exec(line);
      if (n) last.notes.push(n[1]!);
    }
  }
  return entries;
}

/** The entries grouped by the person's messages: each of "you" with what followed it. */
export function exchanges(entries: Entry[]): Array<{ sent: Entry; after: Entry[] }> {
  const out: Array<{ sent: Entry; after: Entry[] }> = [];
  for (const e of entries) {
    if (e.who.startsWith('you')) out.push({ sent: e, after: [] });
    else out.at(-1)?.after.push(e);
  }
  return out;
}

/** "✓ replied" notes in a run: one per message answered. */
export const replies = (run: DemoRun) => run.entries.flatMap((e) => e.notes).filter((n) => n.startsWith('✓ replied'));
