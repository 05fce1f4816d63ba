/** Core benchmarks: classifier and crisis-check throughput, in-memory turns, crisis detection quality. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Classifier, CrisisCheck, Engine, MemorySessionStore, type EngineConfig, type Exchange, type Retriever } from '../../src/index.js';
import { throughput } from './measure.js';

const SCRIPT = ['hello', 'work is hectic', 'I want to feel calm and present', 'yes', 'sure', 'that makes sense', 'my boss emails me at night', 'in my chest', "it's tight", 'yes right now', 'when the phone buzzes I tense up', 'ready', 'done', 'lighter', 'reset'];

export async function benchCore(root: string, config: EngineConfig, exchanges: readonly Exchange[], retriever: Retriever, seconds: number) {
  // 200-character messages built from the corpus.
  const messages = exchanges.map((e) => `${e.client_input} ${e.therapist_response}`.padEnd(200, ' and that is how it feels').slice(0, 200));
  const classifier = new Classifier(config.classification);
  const crisis = new CrisisCheck(config.safety);
  const classificationsPerSec = Math.round(throughput((i) => classifier.classify(messages[i % messages.length]!), seconds));
  const crisisChecksPerSec = Math.round(throughput((i) => crisis.assess(messages[i % messages.length]!), seconds));

  // In-memory turns, closed loop: each session sends its next message when the last reply arrives.
  async function turns(sessions: number): Promise<number> {
    const engine = new Engine({ config, store: new MemorySessionStore(), retriever });
    let n = 0;
    const deadline = performance.now() + seconds * 1000;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: sessions }, async (_, s) => {
        for (let i = 0; performance.now() < deadline; i++) {
          await engine.handleTurn({ sessionId: `bench:${s}`, userId: `u${s}`, platform: 'bench', text: SCRIPT[i % SCRIPT.length]! });
          n++;
        }
      }),
    );
    return Math.round(n / ((performance.now() - start) / 1000));
  }
  const turnsPerSec1 = await turns(1);
  const turnsPerSec256 = await turns(256);

  const crisisQuality: Record<string, { recall: number; falsePositiveRate: number; n: number }> = {};
  for (const name of ['crisis_set', 'crisis_heldout', 'crisis_test']) {
    const set = JSON.parse(readFileSync(join(root, 'test', 'fixtures', `${name}.json`), 'utf8')) as { must_trigger: Array<{ text: string }>; must_not_trigger: Array<{ text: string }> };
    const caught = set.must_trigger.filter((x) => crisis.assess(x.text).risk).length;
    const falseAlarms = set.must_not_trigger.filter((x) => crisis.assess(x.text).risk).length;
    crisisQuality[name] = { recall: +(caught / set.must_trigger.length).toFixed(3), falsePositiveRate: +(falseAlarms / set.must_not_trigger.length).toFixed(3), n: set.must_trigger.length + set.must_not_trigger.length };
  }
  return { patterns: classifier.patternCount, classificationsPerSec, crisisChecksPerSec, turnsPerSec1, turnsPerSec256, crisisQuality };
}
