/**
 * What an operator reads from `npm run config` (a real process, the real Redis under a unique
 * prefix, cleaned up): a protected part is refused as protected, not as an unknown key; paths
 * are the override document's and never repeat a segment; a syntax error has line and column.
 */
import { execFile } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { cleanup, client, REDIS_URL, uniquePrefix } from '../redis/helpers.js';

const prefix = uniquePrefix();
afterAll(() => cleanup(prefix));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function config(args: string[], stdin?: string): Promise<Run> {
  // Only what the CLI needs: a developer's REDIS_CLUSTER_NODES or SLACK_* must not leak in.
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, REDIS_URL, REDIS_KEY_PREFIX: prefix, OPERATOR: 'tester' };
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', 'tsx', 'scripts/config.ts', ...args], { cwd: ROOT, env, timeout: 20_000 }, (err, stdout, stderr) =>
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

/** No path in the text has the same segment twice in a row (`$.flags.flags.x`). */
function repeatedSegments(text: string): string[] {
  return [...text.matchAll(/\$(?:\.[A-Za-z_][A-Za-z0-9_]*|\[[^\]]*\])+/g)].map((m) => m[0]).filter((p) => /(\.[A-Za-z_][A-Za-z0-9_]*)\1(?![A-Za-z0-9_])/.test(p));
}

// Each case starts several processes (about half a second each); generous under a loaded full run.
describe('npm run config: the messages', { timeout: 90_000 }, () => {
  it('refuses a protected part with "protected: <path> cannot be overridden", exit 3, nothing written', async () => {
    const cases: Array<[string, string]> = [
      ['{"config":{"safety":{"crisis_response":"Call a friend."}}}', '$.config.safety'],
      ['{"safety":{"crisis_response":"Call a friend."}}', '$.safety'],
      ['{"config":{"retrieval":{"k":50}}}', '$.config.retrieval'],
      ['{"config":{"rate_limits":{"per_user":null}}}', '$.config.rate_limits'],
      ['{"config":{"rateLimits":{"per_user":null}}}', '$.config.rateLimits'],
      ['{"config":{"responses":{"disclosure":"Hi! I am your therapist."}}}', '$.config.responses.disclosure'],
    ];
    for (const [doc, path] of cases) {
      const r = await config(['set', '--tenant', 'acme', '--json', doc]);
      expect(r.code, doc).toBe(3);
      expect(r.stderr, doc).toContain(`override tenant:acme: protected: ${path} cannot be overridden (`);
      expect(r.stderr, doc).not.toMatch(/Unrecognized key/);
    }
    const arm = await config(['set', '--experiment', 'tone', '--json', '{"split":{"a":1},"arms":{"a":{"config":{"retrieval":{"k":50}}}}}']);
    expect(arm.code).toBe(3);
    expect(arm.stderr).toContain('protected: $.arms.a.config.retrieval cannot be overridden');
    expect(await keysUnder()).toEqual([]);
  });

  it('names any other unknown key on its own path, and points flags put under "config" to "flags"', async () => {
    const r = await config(['set', '--tenant', 'acme', '--dry-run', '--json', '{"config":{"flags":{"llm_streaming":false},"respones":{}}}']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('override tenant:acme: $.config.flags: feature flags go beside "config", not in it: $.flags');
    expect(r.stderr).toContain('override tenant:acme: $.config.respones: unknown key "respones" (an override may change navigation, responses, classification, llm)');
  });

  it('diff and dry run show paths as the document writes them, never a segment twice', async () => {
    const doc = '{"flags":{"llm_streaming":false},"config":{"responses":{"actions":{"ask_goal":["Welcome. What would you like to feel instead?"]}}}}';
    const dry = await config(['set', '--tenant', 'acme', '--dry-run', '--json', doc]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('$.flags.llm_streaming: true -> false');
    expect(dry.stdout).toContain('$.config.responses.actions.ask_goal: ');
    expect(repeatedSegments(dry.stdout)).toEqual([]);

    expect((await config(['set', '--tenant', 'acme', '--json', doc])).code).toBe(0);
    const diff = await config(['diff', '--tenant', 'acme']);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('$.flags.llm_streaming: true -> false');
    expect(repeatedSegments(diff.stdout)).toEqual([]);
    expect((await config(['delete', '--tenant', 'acme'])).code).toBe(0);
  });

  it('a JSON syntax error in the document gives source:line:column', async () => {
    const r = await config(['set', '--tenant', 'acme', '--file', '-'], '{\n  "flags": {\n    "llm_streaming": false,\n  }\n}\n');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('  stdin:4:3: not valid JSON: Expected double-quoted property name');
    expect(r.stderr).not.toMatch(/position/);
  });
});
