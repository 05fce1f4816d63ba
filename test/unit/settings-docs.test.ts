/** Every setting the bot reads is listed in .env.example and documented in docs/configuration.md. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { SettingsSchema } from '../../src/config/settings.js';
import { ROOT } from '../helpers.js';

it('.env.example and docs/configuration.md list every setting', () => {
  const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
  const docs = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
  const names = Object.keys(SettingsSchema.shape);
  expect(names.length).toBeGreaterThan(20);
  expect(names.filter((n) => !new RegExp(`^${n}=`, 'm').test(example))).toEqual([]);
  expect(names.filter((n) => !docs.includes(`\`${n}\``))).toEqual([]);
});
