/** manifest.yml asks for exactly what the adapter uses: no missing event, no extra scope. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../helpers.js';

it('manifest.yml matches the listeners: events, scopes, slash command, App Home', () => {
  const manifest = parse(readFileSync(join(ROOT, 'manifest.yml'), 'utf8'));
  const listeners = readFileSync(join(ROOT, 'adapters', 'slack', 'listeners.ts'), 'utf8');
  const events: string[] = manifest.settings.event_subscriptions.bot_events;
  expect(events.sort()).toEqual(['app_home_opened', 'app_mention', 'message.channels', 'message.groups', 'message.im']);
  for (const e of ['app_home_opened', 'app_mention']) expect(listeners).toContain(`app.event('${e}'`);
  expect(listeners).toContain('app.message(');
  expect(manifest.oauth_config.scopes.bot.sort()).toEqual(['app_mentions:read', 'channels:history', 'chat:write', 'commands', 'groups:history', 'im:history', 'users:read']);
  expect(manifest.features.slash_commands.map((c: { command: string }) => c.command)).toEqual(['/trt']);
  expect(listeners).toContain("app.command('/trt'");
  expect(manifest.features.app_home.home_tab_enabled).toBe(true);
  // Safety alerts' "I'm on it" button arrives as an interactive payload, at the events URL.
  expect(manifest.settings.interactivity).toEqual({ is_enabled: true, request_url: manifest.settings.event_subscriptions.request_url });
  expect(readFileSync(join(ROOT, 'adapters', 'slack', 'alert-actions.ts'), 'utf8')).toMatch(/app\.action(<[^>]*>>)?\(ACK_ACTION/);
});
