/** `npm run config` as a real process against the real Redis (a unique key prefix, cleaned up). */
import { execFile } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { cleanup, client, REDIS_URL, uniquePrefix } from '../redis/helpers.js';

const prefix = uniquePrefix();
afterAll(() => cleanup(prefix));

const TENANT_DOC = '{"config":{"responses":{"actions":{"ask_goal":["Welcome to Acme. What would you like to feel instead?"]}}},"flags":{"llm_streaming":false}}';
const EXPERIMENT_DOC = '{"split":{"control":50,"warm":50},"arms":{"warm":{"config":{"responses":{"actions":{"ask_goal":["Hello, friend. What would you like to feel?"]}}}}}}';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function config(args: string[], env: Record<string, string | undefined> = {}, stdin?: string): Promise<Run> {
  // Only what the CLI needs: a developer's REDIS_CLUSTER_NODES or SLACK_* must not leak in.
  const base = { PATH: process.env.PATH, HOME: process.env.HOME, REDIS_URL, REDIS_KEY_PREFIX: prefix, OPERATOR: 'tester' };
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', 'tsx', 'scripts/config.ts', ...args], { cwd: ROOT, env: { ...base, ...env }, timeout: 20_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

async function keysUnder(): Promise<string[]> {
  const r = client();
  try {
    return (await r.keys(`${prefix}:config:*`)).sort(); // our own prefix, in a test
  } finally {
    r.disconnect();
  }
}

// Each case starts several processes (about half a second each); generous under a loaded full run.
describe('npm run config', { timeout: 90_000 }, () => {
  it('--help exits 0 on the program and on every command', async () => {
    const top = await config(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/get.*\n.*set|rollback/s);
    for (const cmd of ['get', 'set', 'diff', 'history', 'rollback', 'delete']) {
      const r = await config([cmd, '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout).toContain('--tenant <name>');
    }
  });

  it('set --dry-run of a valid document prints what would change and writes nothing', async () => {
    const r = await config(['set', '--tenant', 'acme', '--dry-run', '--json', TENANT_DOC]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^valid/);
    expect(r.stdout).toContain('$.flags.llm_streaming: true -> false');
    expect(r.stdout).toContain('$.config.responses.actions.ask_goal:');
    expect(await keysUnder()).toEqual([]);
  });

  it('refuses an invalid document with exit 3, naming the path, and writes nothing', async () => {
    const missing = await config(['set', '--tenant', 'acme', '--json', '{"config":{"navigation":{"start":"nowhere"}}}']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/override tenant:acme.*: \$\.start: substate "nowhere" does not exist/);
    const wrongType = await config(['set', '--tenant', 'acme', '--dry-run', '--json', '{"flags":{"llm_streaming":"no"}}']);
    expect(wrongType.code).toBe(3);
    expect(wrongType.stderr).toMatch(/override tenant:acme: \$\.flags\.llm_streaming: /);
    const unknownFlag = await config(['set', '--tenant', 'acme', '--json', '{"flags":{"teleport":true}}']);
    expect(unknownFlag.code).toBe(3);
    expect(unknownFlag.stderr).toContain('$.flags.teleport: unknown flag "teleport"');
    const notJson = await config(['set', '--tenant', 'acme', '--file', '-'], {}, '{oops');
    expect(notJson.code).toBe(3);
    expect(notJson.stderr).toContain('stdin:1:2: not valid JSON');
    expect(await keysUnder()).toEqual([]);
  });

  it('set, get, diff, history, rollback and delete a tenant override', async () => {
    const set = await config(['set', '--tenant', 'acme', '--file', '-'], {}, TENANT_DOC);
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('tenant:acme: version 1 written');
    const got = await config(['get', '--tenant', 'acme']);
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({ scope: 'tenant:acme', version: 1, actor: 'operator:tester', action: 'set', doc: JSON.parse(TENANT_DOC) });

    const diff = await config(['diff', '--tenant', 'acme']);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('$.flags.llm_streaming: true -> false');
    expect(diff.stdout).toMatch(/\$\.config\.responses\.actions\.ask_goal: \[.* -> \["Welcome to Acme\. What would you like to feel instead\?"\]/);

    expect((await config(['set', '--tenant', 'acme', '--operator', 'alice', '--json', '{"flags":{"llm_responder":false}}'])).code).toBe(0);
    const back = await config(['rollback', '--tenant', 'acme']);
    expect(back.code).toBe(0);
    expect(back.stdout).toContain('version 2 -> 3 (the document of version 1');
    expect(JSON.parse((await config(['get', '--tenant', 'acme'])).stdout)).toMatchObject({ version: 3, action: 'rollback', from: 1, doc: JSON.parse(TENANT_DOC) });
    const to = await config(['rollback', '--tenant', 'acme', '--to', '2']);
    expect(to.stdout).toContain('version 3 -> 4 (the document of version 2');
    const none = await config(['rollback', '--tenant', 'acme', '--to', '9']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no version 9');

    const del = await config(['delete', '--tenant', 'acme']);
    expect(del.code).toBe(0);
    expect(del.stdout).toContain('deleted at version 5');
    expect((await config(['get', '--tenant', 'acme'])).stdout).toContain('no override for tenant:acme');

    const history = await config(['history', '--tenant', 'acme']);
    expect(history.code).toBe(0);
    const lines = history.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(/\s+/).slice(0, 1)[0])).toEqual(['v5', 'v4', 'v3', 'v2', 'v1']);
    expect(lines[0]).toMatch(/operator:tester\s+delete\s+\(deleted\)/);
    expect(lines[2]).toMatch(/rollback \(from v1\)\s+config\.responses, flags$/);
    expect(lines[3]).toMatch(/operator:alice\s+set\s+flags$/);
    expect(history.stdout).not.toContain('Welcome'); // what it touches, not the content
  });

  it('refuses to roll back to a version that no longer fits the base (exit 3, nothing written)', async () => {
    const r = client();
    try {
      // As if written when the base had another flag: stored directly, bypassing validation.
      const entry = { version: 1, scope: { kind: 'style', name: 'old' }, at: new Date().toISOString(), actor: 'operator:x', action: 'set', doc: { flags: { retired_flag: true } } };
      await r.rpush(`${prefix}:config:{style:old}:history`, JSON.stringify(entry));
      await r.rpush(`${prefix}:config:{style:old}:history`, JSON.stringify({ ...entry, version: 2, action: 'delete', doc: null }));
      const back = await config(['rollback', '--style', 'old']);
      expect(back.code).toBe(3);
      expect(back.stderr).toContain('version 1 of style:old no longer fits');
      expect(back.stderr).toContain('$.flags.retired_flag: unknown flag');
      expect(await r.llen(`${prefix}:config:{style:old}:history`)).toBe(2);
    } finally {
      r.disconnect();
    }
  });

  it('diffs an experiment per arm, and a tenant with the style it names', async () => {
    expect((await config(['set', '--experiment', 'tone', '--json', EXPERIMENT_DOC])).code).toBe(0);
    const diff = await config(['diff', '--experiment', 'tone']);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toMatch(/arm control \(weight 50, 50%\):\n {2}\(no layer: the base config\)/);
    expect(diff.stdout).toMatch(/arm warm \(weight 50, 50%\):\n {2}\$\.config\.responses\.actions\.ask_goal: .* -> \["Hello, friend\. What would you like to feel\?"\]/);

    expect((await config(['set', '--style', 'warm', '--json', '{"config":{"responses":{"actions":{"ask_goal":["Hi, what would you like to feel?"]}}}}'])).code).toBe(0);
    expect((await config(['set', '--tenant', 'beta', '--json', '{"style":"warm","flags":{"llm_streaming":false}}'])).code).toBe(0);
    const styled = await config(['diff', '--tenant', 'beta']);
    expect(styled.stdout).toContain('(with style:warm version 1 applied after this layer)');
    expect(styled.stdout).toContain('-> ["Hi, what would you like to feel?"]');
  });

  it('exits 2 for a bad scope, an unknown command or invalid settings, 4 when Redis is unreachable', async () => {
    expect((await config(['get'])).code).toBe(2);
    expect((await config(['get', '--tenant', 'a', '--style', 'b'])).code).toBe(2);
    expect((await config(['get', '--tenant', 'a{b}'])).code).toBe(2);
    expect((await config(['frobnicate'])).code).toBe(2);
    expect((await config(['get', '--tenant', 'a'], { REDIS_KEY_PREFIX: 'bad prefix' })).code).toBe(2);
    expect((await config(['get', '--tenant', 'a'], { REDIS_URL: undefined })).code).toBe(2);
    const down = await config(['get', '--tenant', 'a'], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(down.code).toBe(4);
    expect(down.stderr).toContain('ECONNREFUSED');
  });
});
