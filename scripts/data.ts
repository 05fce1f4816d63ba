/**
 * `npm run data -- erase|export|audit|dead-letters`: operator actions on stored personal
 * data, for erasure and access requests, and on queued messages parked as dead letters
 * (docs/queue-dead-letters.md). Each action leaves an audit entry (who, when, what; never
 * message text) in the capped stream <prefix>:audit.
 *
 * Exit codes: 0 done, 1 bad arguments (also: no such dead letter), 2 invalid settings (also: no
 * Redis configured), 3 a dead letter that cannot be decrypted (nothing queued), 4 Redis unreachable.
 */
import { Command } from 'commander';
import { userInfo } from 'node:os';
import { StoreUnavailableError, createRedisStore, settingsOrReport, usesRedis, type RedisSessionStore } from '../src/index.js';
import { RedisAlertQueue } from '../src/safety/alerts/redis-alert-queue.js';
import { alertForExport } from '../src/safety/alerts/alert.js';
import { RedisCheckinSchedule } from '../src/checkins/redis-checkin-schedule.js';
import { DeadLetters, NoSuchDeadLetterError, UnreadableDeadLetterError } from '../src/queue/redis/dead-letters.js';
import { QueueKeys } from '../src/queue/redis/queue-keys.js';
import { RedisTurnQueue } from '../src/queue/redis/redis-turn-queue.js';
import { useDotEnv } from '../adapters/common/dotenv.js';

const EXIT_CODES =
  'Exit codes: 0 done, 1 bad arguments (also: no such dead letter), 2 invalid settings (also: no REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS set), 3 a dead letter that cannot be decrypted (nothing queued), 4 Redis unreachable.';

const USER = /^[a-z]+:[A-Za-z0-9._@:-]+$/;

async function withStore(fn: (store: RedisSessionStore) => Promise<void>): Promise<void> {
  useDotEnv('data');
  const settings = settingsOrReport(process.env, (m) => process.stderr.write(m));
  if (!settings) process.exit(2);
  if (!usesRedis(settings)) {
    // A missing setting is a settings problem (2), like a malformed one, not a bad argument.
    process.stderr.write('No REDIS_URL (or REDIS_CLUSTER_NODES / REDIS_SENTINELS) is set: there is no stored data to act on.\n');
    process.exit(2);
  }
  let store: RedisSessionStore;
  try {
    store = await createRedisStore(settings);
  } catch (err) {
    if (err instanceof StoreUnavailableError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(4);
    }
    throw err;
  }
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

function checkUser(user: string): string {
  if (!USER.test(user)) {
    process.stderr.write(`--user must be platform:user, e.g. slack:U123ABC or discord:4242 (got ${JSON.stringify(user)})\n`);
    process.exit(1);
  }
  return user;
}

const ENTRY_ID = /^\d+-\d+$/;

function checkEntry(option: string, id: string): string {
  if (!ENTRY_ID.test(id)) {
    process.stderr.write(`${option} takes a dead letter's id as listed, e.g. 1718000000000-0 (got ${JSON.stringify(id)})\n`);
    process.exit(1);
  }
  return id;
}

/** The audit entries as aligned columns; fields beyond the four common ones go under details as k=v. */
function auditTable(rows: ReadonlyArray<Record<string, string>>): string {
  // Entries hold ids and names, never text; a control character is still shown as "?" so a
  // stray one cannot move the terminal's cursor.
  const clean = (v: string | undefined) => (v ?? '').replace(/[\u0000-\u001f\u007f]/g, '?');
  const table = [
    ['time (UTC)', 'action', 'actor', 'target', 'details'],
    ...rows.map(({ id: _id, at, action, actor, target, ...rest }) => [
      clean(at).replace('T', ' ').replace(/\.\d+Z$|Z$/, ''),
      clean(action),
      clean(actor),
      clean(target),
      Object.entries(rest).map(([k, v]) => `${clean(k)}=${clean(v)}`).join(' '),
    ]),
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  return table.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n') + '\n';
}

const deadLetters = (store: RedisSessionStore) => new DeadLetters(store.client, new QueueKeys(store.keys.prefix));

const operator = (opts: { operator?: string }) => `operator:${opts.operator ?? process.env.OPERATOR ?? userInfo().username}`;

const program = new Command()
  .name('data')
  .description('Erase or export everything stored about a person, read the audit trail, and list or replay parked queued messages.')
  .addHelpText('after', `\n${EXIT_CODES}`);

program
  .command('erase')
  .description('erase every session of a user (state, history, meta, indexes)')
  .requiredOption('--user <platform:user>', 'the person, e.g. slack:U123ABC')
  .option('--operator <name>', 'who asks (audit trail); default OPERATOR or the OS user')
  .action((opts: { user: string; operator?: string }) =>
    withStore(async (store) => {
      const ids = await store.eraseUser(checkUser(opts.user), operator(opts));
      process.stderr.write(`erased ${ids.length} session(s) of ${opts.user}\n`);
      // Parked messages are the person's words too (sealed, but replayable): they go as well.
      const parked = await deadLetters(store).removeUser(opts.user);
      if (parked > 0) {
        await store.audit({ actor: operator(opts), action: 'dead-letter-erase', target: opts.user, entries: String(parked) });
        process.stderr.write(`dropped ${parked} dead letter(s) of ${opts.user}\n`);
      }
      // An alert's included text (include_text) is the person's words too; the alert records stay (docs/safety-alerts.md).
      const texts = await new RedisAlertQueue({ client: store.client, prefix: store.keys.prefix }).forgetText(opts.user);
      if (texts > 0) process.stderr.write(`dropped the message text of ${texts} safety alert(s) of ${opts.user}\n`);
      // Erasure stops their check-ins for good (docs/checkins.md).
      await new RedisCheckinSchedule(store.client, store.keys.prefix).clear(opts.user);
    }),
  );

program
  .command('export')
  .description('print everything stored about a user as JSON on stdout')
  .requiredOption('--user <platform:user>', 'the person, e.g. slack:U123ABC')
  .option('--operator <name>', 'who asks (audit trail); default OPERATOR or the OS user')
  .action((opts: { user: string; operator?: string }) =>
    withStore(async (store) => {
      const user = checkUser(opts.user);
      const data = await store.exportUser(user, operator(opts));
      // The safety alerts raised about them are theirs too (docs/privacy.md): kept apart from the sessions.
      const alerts = await new RedisAlertQueue({ client: store.client, prefix: store.keys.prefix, cipher: store.cipher }).ofUser(user);
      process.stdout.write(`${JSON.stringify({ ...data, safetyAlerts: alerts.map(alertForExport) }, null, 2)}\n`);
    }),
  );

program
  .command('audit')
  .description('print the newest audit entries, newest first, as a table (no message text is ever recorded)')
  .option('--count <n>', 'how many', '50')
  .option('--json', 'one JSON object per line instead of the table (every field of each entry)')
  .addHelpText('after', '\nColumns: time (UTC), action, actor, target (the person or session acted on), details (the other fields, e.g. sessions=2).')
  .action((opts: { count: string; json?: boolean }) => {
    const count = Number(opts.count);
    if (!Number.isInteger(count) || count < 1 || count > 100_000) {
      process.stderr.write(`--count must be a whole number from 1 to 100000 (got ${JSON.stringify(opts.count)})\n`);
      process.exit(1);
    }
    return withStore(async (store) => {
      const rows = await store.auditTrail(count);
      if (opts.json) for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
      else if (rows.length === 0) process.stderr.write('no audit entries\n');
      else process.stdout.write(auditTable(rows));
    });
  });

program
  .command('dead-letters')
  .description('list queued messages parked after their turn failed 5 times (ids, times, reasons; never text), or replay or drop one')
  .option('--count <n>', 'how many to list, newest first', '50')
  .option('--replay <entry-id>', "queue the entry's messages again in their session (as new messages) and remove the entry")
  .option('--drop <entry-id>', 'remove the entry without replaying it')
  .option('--operator <name>', 'who asks (audit trail, for --replay and --drop); default OPERATOR or the OS user')
  .addHelpText(
    'after',
    '\nLists one JSON object per line: {id, at, session, reason, messages, attempts}.\nA replayed message is answered like a new one; if its cause is not fixed it is parked again after 5 tries.',
  )
  .action((opts: { count: string; replay?: string; drop?: string; operator?: string }) => {
    const count = Number(opts.count);
    if (!Number.isInteger(count) || count < 1 || count > 100_000) {
      process.stderr.write(`--count must be a whole number from 1 to 100000 (got ${JSON.stringify(opts.count)})\n`);
      process.exit(1);
    }
    if (opts.replay !== undefined && opts.drop !== undefined) {
      process.stderr.write('give at most one of --replay and --drop\n');
      process.exit(1);
    }
    const replay = opts.replay === undefined ? undefined : checkEntry('--replay', opts.replay);
    const drop = opts.drop === undefined ? undefined : checkEntry('--drop', opts.drop);
    return withStore(async (store) => {
      const dead = deadLetters(store);
      if (replay) {
        // The store's cipher opens the sealed payloads; enqueue seals them again.
        const queue = new RedisTurnQueue({ client: store.client, prefix: store.keys.prefix, cipher: store.cipher });
        try {
          const { entry, queued, duplicate } = await dead.replay(replay, queue, store.cipher);
          await store.audit({ actor: operator(opts), action: 'dead-letter-replay', target: entry.sessionId, entry: entry.id, messages: String(queued + duplicate) });
          process.stderr.write(`replayed dead letter ${entry.id}: ${queued} message(s) queued again in session ${entry.sessionId}${duplicate > 0 ? ` (${duplicate} already queued by an earlier replay)` : ''}\n`);
        } catch (err) {
          if (err instanceof NoSuchDeadLetterError || err instanceof UnreadableDeadLetterError) {
            process.stderr.write(`${err.message}\n`);
            process.exitCode = err instanceof NoSuchDeadLetterError ? 1 : 3;
            return;
          }
          throw err;
        }
        return;
      }
      if (drop) {
        const entry = await dead.get(drop);
        if (!entry || !(await dead.remove(drop))) {
          process.stderr.write(`${new NoSuchDeadLetterError(drop).message}\n`);
          process.exitCode = 1;
          return;
        }
        await store.audit({ actor: operator(opts), action: 'dead-letter-drop', target: entry.sessionId, entry: entry.id, messages: String(entry.ids.length) });
        process.stderr.write(`dropped dead letter ${entry.id} (${entry.ids.length} message(s) of session ${entry.sessionId})\n`);
        return;
      }
      for (const e of await dead.list(count)) {
        process.stdout.write(`${JSON.stringify({ id: e.id, at: new Date(e.at).toISOString(), session: e.sessionId, reason: e.reason, messages: e.ids.length, attempts: e.attempts })}\n`);
      }
    });
  });

await program.parseAsync();
