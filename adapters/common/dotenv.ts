/**
 * `.env` in the working folder (for `npm start` and the npm scripts: the project root), read
 * with Node's own `process.loadEnvFile` (no dependency). The environment wins over the file: a
 * variable already set is left as it is, so `REDIS_URL=... npm start` still means what it says.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';

export interface DotEnv {
  /** The file read. */
  path: string;
  /** Variables the file set. */
  applied: number;
  /** Variables the file also names but the environment had already set (the environment's stand). */
  shadowed: number;
}

export class DotEnvError extends Error {
  override name = 'DotEnvError';
}

/** Loads `file` when it exists; undefined when there is none. A file that exists but cannot be read is a DotEnvError. */
export function loadDotEnv(file = '.env', env: NodeJS.ProcessEnv = process.env): DotEnv | undefined {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DotEnvError(`${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const names = Object.keys(parseEnv(text));
  const shadowed = names.filter((n) => env[n] !== undefined).length;
  if (env === process.env) process.loadEnvFile(path);
  else for (const [k, v] of Object.entries(parseEnv(text))) env[k] ??= v;
  return { path, applied: names.length - shadowed, shadowed };
}

/** How the banner says where the settings came from. */
export function describeDotEnv(d: DotEnv | undefined): string {
  if (!d) return 'environment (no .env)';
  return `.env (${d.applied} set${d.shadowed ? `, ${d.shadowed} left to the environment` : ''}) + environment`;
}

/**
 * For the CLIs, first thing: loads `.env` like `npm start` does, so a REDIS_URL put there
 * serves `npm run data` too. A file that exists but cannot be read: one line, exit 2 (invalid settings).
 */
export function useDotEnv(cli: string): DotEnv | undefined {
  try {
    return loadDotEnv();
  } catch (err) {
    if (!(err instanceof DotEnvError)) throw err;
    process.stderr.write(`${cli}: ${err.message}\n`);
    process.exit(2);
  }
}
