/** Core benchmarks: classifier and crisis-check throughput, in-memory turns, crisis detection quality. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Classifier, CrisisCheck, Engine, MemorySessionStore, type EngineConfig, type Exchange, type Retriever } from '../../src/index.js';
import { SCRIPT, closedLoop, throughput } from './measure.js';


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
    const turn = (s: number, i: number) => engine.handleTurn({ sessionId: `bench:${s}`, userId: `u${s}`, platform: 'bench', text: SCRIPT[i % SCRIPT.length]! });
    return Math.round(await closedLoop(sessions, seconds, turn));
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
