import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, checkConfig, loadEngineConfig, loadExchanges, loadSettings, SettingsError } from '../../src/index.js';
import { CONFIG_DIR, DATA_DIR, ROOT } from '../helpers.js';

const run = promisify(execFile);
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const dirs: string[] = [];

/** A scratch copy of config/ and data/ to break on purpose. */
function scratch(): { config: string; data: string; file: (name: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'trt-config-'));
  dirs.push(dir);
  cpSync(CONFIG_DIR, join(dir, 'config'), { recursive: true });
  cpSync(join(DATA_DIR, 'state_actions'), join(dir, 'data', 'state_actions'), { recursive: true });
  const file = (name: string) => join(dir, 'config', 'system', 'core_system', name);
  return { config: join(dir, 'config'), data: join(dir, 'data'), file };
}
function edit(path: string, change: (json: any) => void): void {
  const json = JSON.parse(readFileSync(path, 'utf8'));
  change(json);
  writeFileSync(path, JSON.stringify(json, null, 2));
}
function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.file}: ${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}

afterEach(() => {
  while (dirs.length > 0) rmSync(dirs.pop()!, { recursive: true, force: true });
});

describe('config loading', () => {
  it('the repository config loads and passes every cross-check', () => {
    expect(checkConfig(loadEngineConfig(CONFIG_DIR), loadExchanges(DATA_DIR))).toEqual([]);
  });

  it('malformed JSON names the file', () => {
    const s = scratch();
    writeFileSync(s.file('safety_protocol.json'), '{ "version": "1", ');
    const problems = problemsOf(() => loadEngineConfig(s.config));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/safety_protocol\.json: \$: not valid JSON/);
  });

  it('schema problems name the file and the JSON path, all of them at once, across files', () => {
    const s = scratch();
    edit(s.file('simplified_navigation.json'), (j) => {
      j.stages.stage_1.substates['1.1_goal'].max_attempts = 'five';
      delete j.stages.stage_1.substates['1.2_vision'].objective;
    });
    edit(s.file('fallback_responses.json'), (j) => {
      j.actions.ask_goal = [];
    });
    const problems = problemsOf(() => loadEngineConfig(s.config));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/simplified_navigation\.json: \$\.stages\.stage_1\.substates\["1\.1_goal"\]\.max_attempts: /),
        expect.stringMatching(/simplified_navigation\.json: \$\.stages\.stage_1\.substates\["1\.2_vision"\]\.objective: /),
        expect.stringMatching(/fallback_responses\.json: \$\.actions\.ask_goal: /),
      ]),
    );
  });

  it('rate_limits.json: a bad or missing limit names the file and the path; null turns a limit off', () => {
    const s = scratch();
    edit(s.file('rate_limits.json'), (j) => {
      j.per_user.points = 0;
      delete j.llm_tokens;
      j.per_tenant = null;
    });
    edit(s.file('fallback_responses.json'), (j) => {
      delete j.system.rate_limited;
    });
    const problems = problemsOf(() => loadEngineConfig(s.config));
    expect(problems).toEqual([
      expect.stringMatching(/fallback_responses\.json: \$\.system\.rate_limited: /),
      expect.stringMatching(/rate_limits\.json: \$\.per_user\.points: /),
      expect.stringMatching(/rate_limits\.json: \$\.llm_tokens: /),
    ]);
    const ok = scratch();
    edit(ok.file('rate_limits.json'), (j) => {
      j.per_tenant = null;
    });
    expect(loadEngineConfig(ok.config).rateLimits).toMatchObject({ per_user: { points: 20, duration_s: 60 }, per_tenant: null, block_in_memory: true });
  });

  it('settings: one line per invalid variable', () => {
    try {
      loadSettings({ MAX_MESSAGE_CHARS: 'lots', LOG_LEVEL: 'loud', EMBEDDINGS_PROVIDER: '' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SettingsError);
      expect((err as SettingsError).lines).toHaveLength(2);
      expect((err as Error).message).toContain('MAX_MESSAGE_CHARS');
      expect((err as Error).message).toContain('LOG_LEVEL');
    }
    expect(loadSettings({}).MAX_MESSAGE_CHARS).toBe(4000);
  });

  it('settings: the openai embedder needs a key or a compatible server', () => {
    expect(() => loadSettings({ EMBEDDINGS_PROVIDER: 'openai' })).toThrow(/OPENAI_API_KEY or OPENAI_BASE_URL/);
    expect(loadSettings({ EMBEDDINGS_PROVIDER: 'openai', OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' }).EMBEDDINGS_PROVIDER).toBe('openai');
  });
});

describe('cross-checks', () => {
  it('report dangling targets, undefined labels and actions, duplicates, unreachable substates and thin categories', () => {
    const s = scratch();
    edit(s.file('simplified_navigation.json'), (j) => {
      const subs = j.stages.stage_1.substates;
      subs['1.1_goal'].triggers.no_such_label = 'ask_goal';
      subs['1.1_goal'].triggers.disagreement = { action: 'no_such_action', goto: '9.9_nowhere' };
      subs['1.5_readiness'].next = '1.7_missing';
      subs['1.9_island'] = { ...subs['1.6_handover'], title: 'island' };
      subs['1.2_vision'].rag_queries.refine_vision = 'brand_new_category';
    });
    edit(s.file('input_classification_patterns.json'), (j) => {
      j.situation_classifications.agreement.push('Yes!');
    });
    const config = loadEngineConfig(s.config);
    const problems = checkConfig(config, loadExchanges(s.data)).map((p) => `${p.file}: ${p.path}: ${p.message}`);
    const expected = [
      /triggers\.no_such_label: classification "no_such_label" is not defined/,
      /triggers\.disagreement: action "no_such_action" has no lines/,
      /triggers\.disagreement\.goto: target substate "9\.9_nowhere" does not exist/,
      /\["1\.5_readiness"\]\.next: target substate "1\.7_missing" does not exist/,
      /\["1\.9_island"\]: substate "1\.9_island" is unreachable/,
      /category "brand_new_category" has 0 example\(s\)/,
      /input_classification_patterns\.json: \$\.situation_classifications\.agreement\[\d+\]: phrase "Yes!" is listed twice/,
    ];
    for (const re of expected) expect(problems, String(re)).toEqual(expect.arrayContaining([expect.stringMatching(re)]));
  });

  it('report corpus records that name unknown actions or substates, with the record index', () => {
    const s = scratch();
    edit(join(s.data, 'state_actions', 'all_dr_q_exchanges.json'), (j) => {
      j[3].action = 'made_up';
      j[7].substate = '0.0_nowhere';
    });
    const problems = checkConfig(loadEngineConfig(s.config), loadExchanges(s.data)).map((p) => `${p.path}: ${p.message}`);
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/^\$\[3\]\.action: action "made_up"/), expect.stringMatching(/^\$\[7\]\.substate: /)]));
  });

  it('the rate-limited reply may only use {wait}', () => {
    const s = scratch();
    edit(s.file('fallback_responses.json'), (j) => {
      j.system.rate_limited = 'Slow down, {name}. Back in {wait}.';
    });
    const problems = checkConfig(loadEngineConfig(s.config), loadExchanges(s.data)).map((p) => `${p.file}: ${p.path}: ${p.message}`);
    expect(problems).toEqual([expect.stringMatching(/fallback_responses\.json: \$\.system\.rate_limited: slot "\{name\}" is never filled here/)]);
  });

  it('a record missing a field names its index and field', () => {
    const s = scratch();
    edit(join(s.data, 'state_actions', 'all_dr_q_exchanges.json'), (j) => {
      delete j[12].therapist_response;
    });
    expect(problemsOf(() => loadExchanges(s.data))[0]).toMatch(/\$\[12\]\.therapist_response/);
  });
});

describe('npm run config:check', () => {
  it('exits 0 on the repository config', async () => {
    const { stdout } = await run(TSX, ['scripts/config-check.ts'], { cwd: ROOT });
    expect(stdout).toContain('valid');
  });

  it('exits 1 and lists every problem', async () => {
    const s = scratch();
    edit(s.file('simplified_navigation.json'), (j) => {
      j.start = 'nowhere';
      j.interrupt_priority.push('ghost');
    });
    const err = await run(TSX, ['scripts/config-check.ts', '--config-dir', s.config, '--data-dir', s.data], { cwd: ROOT }).then(
      () => expect.unreachable(),
      (e: { code: number; stderr: string }) => e,
    );
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/\$\.start: substate "nowhere" does not exist/);
    expect(err.stderr).toMatch(/\$\.interrupt_priority\[\d+\]: interrupt "ghost" is not defined/);
  });

  it('has --help', async () => {
    const { stdout } = await run(TSX, ['scripts/config-check.ts', '--help'], { cwd: ROOT });
    expect(stdout).toContain('Exit codes');
  });
});
