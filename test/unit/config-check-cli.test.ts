/**
 * What an operator reads when a config folder other than config/ is broken: `npm run
 * config:check` and `npm start` as real processes on a scratch copy in the temp folder.
 * Every problem names the scratch copy's file (never `config/system/...`) and, for a
 * JSON syntax error, its line and column.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONFIG_DIR, DATA_DIR, ROOT } from '../helpers.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function node(script: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  // Only what the process needs: a developer's CONFIG_DIR or REDIS_URL must not leak in.
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: { ...base, ...env }, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end();
  });
}
const check = (args: string[]) => node('scripts/config-check.ts', args);

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length > 0) rmSync(dirs.pop()!, { recursive: true, force: true });
});

/** A copy of config/ and data/ under the temp folder (its real path: /tmp may be a link). */
function scratch(): { dir: string; config: string; data: string; file: (name: string) => string; exchanges: string } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'trt-cfg-')));
  dirs.push(dir);
  cpSync(CONFIG_DIR, join(dir, 'cfg'), { recursive: true });
  cpSync(join(DATA_DIR, 'state_actions'), join(dir, 'data', 'state_actions'), { recursive: true });
  return {
    dir,
    config: join(dir, 'cfg'),
    data: join(dir, 'data'),
    file: (name) => join(dir, 'cfg', 'system', 'core_system', name),
    exchanges: join(dir, 'data', 'state_actions', 'all_dr_q_exchanges.json'),
  };
}
function edit(path: string, change: (json: any) => void): void {
  const json = JSON.parse(readFileSync(path, 'utf8'));
  change(json);
  writeFileSync(path, JSON.stringify(json, null, 2));
}
/** The problem lines of a failed check (after the "found N problems" header). */
const problemLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('  '));

describe('npm run config:check on another folder', { timeout: 60_000 }, () => {
  it('names that folder\'s files in cross-reference, corpus, llm and tenant problems', async () => {
    const s = scratch();
    edit(s.file('simplified_navigation.json'), (j) => {
      j.start = 'nowhere';
    });
    edit(s.file('tenants.json'), (j) => {
      j.tenants = { a: { slack_teams: ['T1'], discord_guilds: [] }, b: { slack_teams: ['T1'], discord_guilds: [] } };
    });
    edit(s.file('llm_prompts.json'), (j) => {
      j.system_prompt += ' {nonsense}';
    });
    edit(s.exchanges, (j) => {
      j[3].action = 'made_up';
    });
    const r = await check(['--config-dir', s.config, '--data-dir', s.data]);
    expect(r.code).toBe(1);
    const lines = problemLines(r.stderr);
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const line of lines) expect(line).toMatch(new RegExp(`^  ${s.dir}/(cfg/system/core_system|data/state_actions)/[a-z_]+\\.json: \\$`));
    expect(r.stderr).toContain(`  ${s.file('simplified_navigation.json')}: $.start: substate "nowhere" does not exist`);
    expect(r.stderr).toContain(`  ${s.file('tenants.json')}: $.tenants.b.slack_teams[0]: "T1" already belongs to tenant "a"`);
    expect(r.stderr).toContain(`  ${s.file('llm_prompts.json')}: $.system_prompt: placeholder "{nonsense}" is never filled`);
    expect(r.stderr).toContain(`  ${s.exchanges}: $[3].action: action "made_up" does not exist`);
    expect(r.stderr).not.toContain('config/system');
  });

  it('takes the folder as an argument too: npm run config:check -- <folder>', async () => {
    const s = scratch();
    edit(s.file('fallback_responses.json'), (j) => {
      j.system.rate_limited = 'Slow down, {name}.';
    });
    const r = await node('scripts/config-check.ts', [s.config], { DATA_DIR: DATA_DIR });
    expect(r.code).toBe(1);
    expect(problemLines(r.stderr)).toEqual([`  ${s.file('fallback_responses.json')}: $.system.rate_limited: slot "{name}" is never filled here (only {wait})`]);
    expect((await check(['a', 'b'])).code).toBe(2);
  });

  it('a JSON syntax error gives file:line:column, not a position', async () => {
    const s = scratch();
    const file = s.file('flags.json');
    const lines = readFileSync(file, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('"llm_responder"'));
    lines[at] = lines[at]!.replace(/,\s*$/, ''); // the comma after the first flag, gone
    writeFileSync(file, lines.join('\n'));
    const column = lines[at + 1]!.indexOf('"') + 1;
    const r = await check(['--config-dir', s.config, '--data-dir', s.data]);
    expect(r.code).toBe(1);
    expect(problemLines(r.stderr)).toEqual([`  ${file}:${at + 2}:${column}: not valid JSON: Expected ',' or '}' after property value`]);
    expect(r.stderr).not.toMatch(/position/);
  });

  it('a missing file or folder names the path looked for', async () => {
    const s = scratch();
    rmSync(s.file('retrieval.json'));
    const r = await check(['--config-dir', s.config, '--data-dir', s.data]);
    expect(r.code).toBe(1);
    expect(problemLines(r.stderr)).toEqual([`  ${s.file('retrieval.json')}: $: file not found`]);
    const none = await check(['--config-dir', join(s.dir, 'nothing'), '--data-dir', s.data]);
    expect(none.code).toBe(1);
    expect(problemLines(none.stderr)).toEqual([`  ${join(s.dir, 'nothing')}: $: folder not found (the config folder holds system/core_system/*.json)`]);
  });
});

describe('npm start with CONFIG_DIR elsewhere', { timeout: 60_000 }, () => {
  it('stops with exit 3 naming that folder\'s file, with line and column for a syntax error', async () => {
    const s = scratch();
    const file = s.file('rate_limits.json');
    writeFileSync(file, '{\n  "version": "x",\n  "user": { "messages": 10 }}\n}\n');
    const r = await node('adapters/main.ts', [], { CONFIG_DIR: s.config, DATA_DIR: DATA_DIR });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`  ${file}:4:1: not valid JSON: Unexpected non-whitespace character after the JSON value`);
  });

  it('a cross-reference problem at start-up names that folder\'s file', async () => {
    const s = scratch();
    edit(s.file('simplified_navigation.json'), (j) => {
      j.start = 'nowhere';
    });
    const r = await node('adapters/main.ts', [], { CONFIG_DIR: s.config, DATA_DIR: DATA_DIR });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`  ${s.file('simplified_navigation.json')}: $.start: substate "nowhere" does not exist`);
  });
});
