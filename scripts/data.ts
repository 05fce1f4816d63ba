/**
 * `npm run data -- erase|export|audit`: operator actions on stored personal
 * data, for erasure and access requests. Each action leaves an audit entry
 * (who, when, what; never message text) in the capped stream <prefix>:audit.
 *
 * Exit codes: 0 done, 1 bad arguments, 2 invalid settings, 4 Redis unreachable.
 */
import { Command } from 'commander';
import { userInfo } from 'node:os';
import { StoreUnavailableError, createRedisStore, settingsOrReport, usesRedis, type RedisSessionStore } from '../src/index.js';

const USER = /^[a-z]+:[A-Za-z0-9._@:-]+$/;

async function withStore(fn: (store: RedisSessionStore) => Promise<void>): Promise<void> {
  const settings = settingsOrReport(process.env, (m) => process.stderr.write(m));
  if (!settings) process.exit(2);
  if (!usesRedis(settings)) {
    process.stderr.write('No REDIS_URL (or REDIS_CLUSTER_NODES / REDIS_SENTINELS) is set: there is no stored data to act on.\n');
    process.exit(1);
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

const operator = (opts: { operator?: string }) => `operator:${opts.operator ?? process.env.OPERATOR ?? userInfo().username}`;

const program = new Command()
  .name('data')
  .description('Erase or export everything stored about a person, and read the audit trail.')
  .addHelpText('after', '\nExit codes: 0 done, 1 bad arguments, 2 invalid settings, 4 Redis unreachable.');

program
  .command('erase')
  .description('erase every session of a user (state, history, meta, indexes)')
  .requiredOption('--user <platform:user>', 'the person, e.g. slack:U123ABC')
  .option('--operator <name>', 'who asks (audit trail); default OPERATOR or the OS user')
  .action((opts: { user: string; operator?: string }) =>
    withStore(async (store) => {
      const ids = await store.eraseUser(checkUser(opts.user), operator(opts));
      process.stderr.write(`erased ${ids.length} session(s) of ${opts.user}\n`);
    }),
  );

program
  .command('export')
  .description('print everything stored about a user as JSON on stdout')
  .requiredOption('--user <platform:user>', 'the person, e.g. slack:U123ABC')
  .option('--operator <name>', 'who asks (audit trail); default OPERATOR or the OS user')
  .action((opts: { user: string; operator?: string }) =>
    withStore(async (store) => {
      const data = await store.exportUser(checkUser(opts.user), operator(opts));
      process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    }),
  );

program
  .command('audit')
  .description('print the newest audit entries (no message text is ever recorded)')
  .option('--count <n>', 'how many', '50')
  .action((opts: { count: string }) => {
    const count = Number(opts.count);
    if (!Number.isInteger(count) || count < 1 || count > 100_000) {
      process.stderr.write(`--count must be a whole number from 1 to 100000 (got ${JSON.stringify(opts.count)})\n`);
      process.exit(1);
    }
    return withStore(async (store) => {
      for (const row of await store.auditTrail(count)) process.stdout.write(`${JSON.stringify(row)}\n`);
    });
  });

await program.parseAsync();
