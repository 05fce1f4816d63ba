/** The project compiles under strict TypeScript (tests run through vitest's transpiler, which does not type-check). */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { ROOT } from './helpers.js';

it('tsc --noEmit reports no errors', async () => {
  const result = await promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json', '--noEmit'], { cwd: ROOT }).then(
    () => '',
    (e: { stdout: string }) => e.stdout,
  );
  expect(result).toBe('');
}, 120_000);
