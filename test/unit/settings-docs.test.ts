/** Every setting the bot reads is listed in .env.example and documented in the README. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { SettingsSchema } from '../../src/config/settings.js';
import { ROOT } from '../helpers.js';

it('.env.example and the README list every setting', () => {
  const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const names = Object.keys(SettingsSchema.shape);
  expect(names.length).toBeGreaterThan(20);
  expect(names.filter((n) => !new RegExp(`^${n}=`, 'm').test(example))).toEqual([]);
  expect(names.filter((n) => !readme.includes(`\`${n}\``))).toEqual([]);
});
