/**
 * Bot instances as real processes (`node --import tsx adapters/main.ts`) for the
 * fault tests: started with their own environment, ready once Slack listens and
 * the worker runs, and stopped with SIGTERM or SIGKILL (a crash).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT } from '../helpers.js';
import { until } from '../wait.js';

export class BotProcess {
  stderr = '';
  port = 0;
  readonly exited: Promise<number | null>;
  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stderr!.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((r) => child.on('exit', (code) => r(code)));
  }

  /** `ready`: when it counts as started (default: Slack listening and/or the queue worker running, by role). */
  static async start(name: string, env: Record<string, string>, args: string[] = [], ready?: (stderr: string) => boolean): Promise<BotProcess> {
    const child = spawn('node', ['--import', 'tsx', 'adapters/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'info', PORT: '0', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const bot = new BotProcess(name, child);
    const worker = !args.includes('receiver');
    const receiver = !args.includes('worker');
    const started = await until(
      () => {
        if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}) before it started:\n${bot.stderr}`);
        const port = /"port":(\d+)/.exec(bot.stderr);
        if (ready) return ready(bot.stderr) && { port: port ? Number(port[1]) : 0 };
        return (!receiver || port) && (!worker || bot.stderr.includes('queue worker started')) && { port: port ? Number(port[1]) : 0 };
      },
      { timeoutMs: 20_000, what: () => `${name} to start:\n${bot.stderr}` },
    );
    bot.port = started.port;
    return bot;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/slack/events`;
  }

  /** SIGKILL: as abrupt as a crash; resolves once the process is gone. */
  async kill9(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async terminate(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    return this.exited;
  }
}

/**
 * What every bot process of the end-to-end tests runs on, whatever the runner's environment says:
 * Redis under `prefix` (no Cluster, no Sentinel), the offline responder, no platform and no safety
 * alert destination. The platform's variables and any alert destination come on top.
 */
export function processEnv(redisUrl: string, prefix: string): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    REDIS_CLUSTER_NODES: '',
    REDIS_SENTINELS: '',
    REDIS_KEY_PREFIX: prefix,
    RESPONDER: 'offline',
    OPENAI_API_KEY: '',
    OPENAI_BASE_URL: '',
    SLACK_BOT_TOKEN: '',
    SLACK_APP_TOKEN: '',
    DISCORD_BOT_TOKEN: '',
    SAFETY_ALERT_SLACK_CHANNEL: '',
    SAFETY_ALERT_DISCORD_CHANNEL: '',
    SAFETY_ALERT_WEBHOOK_URL: '',
    SAFETY_ALERT_TEAM_NAME: '',
    // The defaults, whatever a developer's .env says: the tests' "nothing left to post" counts on them.
    SAFETY_ALERT_REMIND_MINUTES: '10',
    CHECKIN_LEASE_MS: '60000',
    CHECKIN_POLL_MS: '1000',
  };
}
