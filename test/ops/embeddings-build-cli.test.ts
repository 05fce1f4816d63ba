/**
 * `npm run embeddings:build` as an operator runs it (the real CLI as a child process, stderr
 * piped, so off a terminal): a rebuild with nothing changed leaves every file byte-identical
 * and the checkout clean; the summary explains why there are fewer texts than examples;
 * progress is a few plain lines; an unreachable embeddings server is named by its URL.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { INDEX_FILES } from '../../src/index.js';
import { CONFIG_DIR, DATA_DIR, ROOT } from '../helpers.js';
import { FakeOpenAi } from '../fakes/openai-server.js';

const run = promisify(execFile);
const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'trt-embeddings-cli-'));
  dirs.push(dir);
  cpSync(join(DATA_DIR, 'state_actions'), join(dir, 'state_actions'), { recursive: true });
  return dir;
}

async function build(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, ['--import', 'tsx', 'scripts/embeddings-build.ts', ...args], { cwd: ROOT, env, timeout: 60_000 });
    return { code: 0, stderr };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

const files = (dir: string) => Object.values(INDEX_FILES).map((f) => ({ bytes: readFileSync(join(dir, f)), mtime: statSync(join(dir, f)).mtimeMs }));

describe('npm run embeddings:build, run twice with nothing changed', () => {
  it('leaves every file byte-identical (same built_at, untouched) and git sees no change', async () => {
    const dir = scratch();
    const first = await build(['--data-dir', dir]);
    expect(first.code, first.stderr).toBe(0);
    const git = (...args: string[]) => run('git', ['-C', dir, ...args]).then((r) => r.stdout);
    await git('init', '-q');
    await git('add', '.');
    await git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'first build');
    const before = files(dir);

    const second = await build(['--data-dir', dir]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('nothing changed (same examples, same embedder)');
    expect(second.stderr).toMatch(/361 distinct texts: 0 to embed, 361 reused/);
    files(dir).forEach((f, i) => {
      expect(f.bytes.equals(before[i]!.bytes), Object.values(INDEX_FILES)[i]).toBe(true);
      expect(f.mtime).toBe(before[i]!.mtime);
    });
    expect(await git('status', '--porcelain')).toBe('');
  });

  it('writes again when an example changes, and says why texts are fewer than examples', async () => {
    const dir = scratch();
    const first = await build(['--data-dir', dir]);
    expect(first.stderr).toMatch(/362 examples; .*; 361 distinct texts: 361 to embed, 0 reused/);
    expect(first.stderr).toMatch(/examples with the same text share one embedding .*"yes": ex-0096, ex-0186/);
    expect(first.stderr).toMatch(/built in [\d.]+ s: 362 examples \(361 embeddings\) in 24 categories/);
    const meta = readFileSync(join(dir, INDEX_FILES.metadata), 'utf8');
    const file = join(dir, 'state_actions', 'all_dr_q_exchanges.json');
    const records = JSON.parse(readFileSync(file, 'utf8'));
    records[3].therapist_response = `${records[3].therapist_response} (edited)`; // not embedded: same vectors, new corpus checksum
    writeFileSync(file, JSON.stringify(records, null, 2));
    const second = await build(['--data-dir', dir]);
    expect(second.stderr).toMatch(/built in/);
    expect(readFileSync(join(dir, INDEX_FILES.metadata), 'utf8')).not.toBe(meta);
  });
});

describe('npm run embeddings:build progress off a terminal', () => {
  it('prints a plain line per further 10% (or 5 s), never the same line twice, while a slow server answers', async () => {
    const fake = new FakeOpenAi(1536);
    const baseURL = await fake.start();
    try {
      fake.delayMs = 1500; // two requests (256 + 105 texts): long enough for a redrawn bar to repeat itself
      const { code, stderr } = await build(['--provider', 'openai', '--data-dir', scratch()], { ...process.env, OPENAI_BASE_URL: baseURL, OPENAI_API_KEY: 'test-key' });
      expect(code, stderr).toBe(0);
      const progress = stderr.split('\n').filter((l) => l.startsWith('embedding'));
      expect(progress).toEqual([expect.stringMatching(/^embedding texts: 256\/361 \(70%\) [\d.]+ s$/), expect.stringMatching(/^embedding texts: 361\/361 \(100%\) [\d.]+ s$/)]);
      expect(stderr).not.toMatch(/[\r\u001b]/);
    } finally {
      await fake.stop();
    }
  });
});

describe('npm run embeddings:build against an unreachable embeddings server', () => {
  it('exits 3 naming the URL and the cause, and leaves no index behind', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    // One try, not the configured six with backoff: the message is what is under test.
    const config = mkdtempSync(join(tmpdir(), 'trt-embeddings-config-'));
    dirs.push(config);
    cpSync(CONFIG_DIR, config, { recursive: true });
    const retrievalFile = join(config, 'system', 'core_system', 'retrieval.json');
    const retrieval = JSON.parse(readFileSync(retrievalFile, 'utf8'));
    retrieval.openai.max_retries = 0;
    writeFileSync(retrievalFile, JSON.stringify(retrieval));
    const dir = scratch();
    const url = `http://127.0.0.1:${port}/v1`;
    const { code, stderr } = await build(['--provider', 'openai', '--data-dir', dir, '--config-dir', config, '--no-progress'], { ...process.env, OPENAI_BASE_URL: url });
    expect(code).toBe(3);
    expect(stderr).toContain(`the embeddings server at ${url} could not be reached (ECONNREFUSED), 1 try`);
    expect(stderr).toContain('The previous index is untouched.');
    expect(() => statSync(join(dir, INDEX_FILES.metadata))).toThrow();
  });
});
