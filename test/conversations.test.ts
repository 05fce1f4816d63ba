/**
 * Scripted conversations: each file in test/conversations/ is a list of turns
 * (what the person says, and the substate and action expected after it),
 * played through the real engine with the real config.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chat, makeEngine, ROOT } from './helpers.js';
import { answered } from './turn-results.js';

interface ScriptTurn {
  say: string;
  substate?: string;
  action?: string;
  kind?: string;
  reply_contains?: string[];
  reply_excludes?: string[];
}
interface Script {
  name: string;
  turns: ScriptTurn[];
}

const dir = join(ROOT, 'test', 'conversations');
const scripts = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, script: JSON.parse(readFileSync(join(dir, f), 'utf8')) as Script }));

describe('scripted conversations', () => {
  it('cover the happy path and every non-safety interrupt in config', async () => {
    const actions = new Set(scripts.flatMap(({ script }) => script.turns.map((t) => t.action)));
    const { repoConfig } = await import('./helpers.js');
    for (const [name, i] of Object.entries(repoConfig().navigation.interrupts)) {
      if (i.handler === 'safety') continue;
      expect(actions, `no script exercises interrupt "${name}"`).toContain(i.action);
    }
    expect(scripts.map((s) => s.file)).toContain('happy_path.json');
  });

  for (const { file, script } of scripts) {
    it(`${file}: ${script.name}`, async () => {
      const { engine } = makeEngine();
      const say = chat(engine, `console:${file}`);
      for (const [i, turn] of script.turns.entries()) {
        const r = await say(turn.say);
        const where = `${file} turn ${i + 1} (${JSON.stringify(turn.say.slice(0, 40))})`;
        if (turn.kind) expect(r.kind, where).toBe(turn.kind);
        if (turn.substate) expect(answered(r).substate, where).toBe(turn.substate);
        if (turn.action) expect(answered(r).action, where).toBe(turn.action);
        for (const s of turn.reply_contains ?? []) expect(r.reply, where).toContain(s);
        for (const s of turn.reply_excludes ?? []) expect(r.reply, where).not.toContain(s);
      }
    });
  }
});
