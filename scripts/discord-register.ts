/**
 * `npm run discord:register`: registers the /trt slash command with Discord,
 * globally (can take up to an hour to appear) or for one server (--guild,
 * immediate). Needs DISCORD_BOT_TOKEN; DISCORD_API_URL for tests and proxies.
 *
 * Exit codes: 0 registered, 1 failed, 2 invalid settings.
 */
import { REST, Routes } from 'discord.js';
import { Command } from 'commander';
import { trtCommand } from '../adapters/discord/discord-app.js';
import { settingsOrReport } from '../src/index.js';
import { useDotEnv } from '../adapters/common/dotenv.js';

const opts = new Command()
  .name('discord:register')
  .description('Register the /trt slash command (help | status | reset | forget) with Discord.')
  .option('--guild <id>', 'register for one server only (appears at once); default: global')
  .addHelpText('after', '\nNeeds DISCORD_BOT_TOKEN. Exit codes: 0 registered, 1 failed, 2 invalid settings.')
  .parse()
  .opts<{ guild?: string }>();

useDotEnv('discord:register');
const settings = settingsOrReport(process.env, (m) => process.stderr.write(m));
if (!settings) process.exit(2);
if (!settings.DISCORD_BOT_TOKEN) {
  process.stderr.write('DISCORD_BOT_TOKEN is not set.\n');
  process.exit(2);
}
const rest = new REST({ ...(settings.DISCORD_API_URL ? { api: settings.DISCORD_API_URL } : {}) }).setToken(settings.DISCORD_BOT_TOKEN);
try {
  const app = (await rest.get(Routes.oauth2CurrentApplication())) as { id: string };
  const route = opts.guild ? Routes.applicationGuildCommands(app.id, opts.guild) : Routes.applicationCommands(app.id);
  await rest.put(route, { body: [trtCommand.toJSON()] });
  process.stderr.write(`registered /trt ${opts.guild ? `for server ${opts.guild}` : 'globally (may take up to an hour to appear)'}\n`);
} catch (err) {
  process.stderr.write(`registration failed: ${(err as Error).message}\n`);
  process.exit(1);
}
