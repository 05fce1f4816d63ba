/** Core benchmarks: classifier and crisis-check throughput, in-memory turns, crisis detection quality. */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Classifier, CrisisCheck, Engine, MemorySessionStore, type EngineConfig, type Exchange, type Retriever } from '../../src/index.js';
import { SCRIPT, closedLoop, throughput } from './measure.js';
import { readLabelledTsv } from '../../src/safety/corpus.js';
import { evaluate, formatRate } from '../../src/safety/eval.js';
import { RiskModel } from '../../src/safety/model/risk-model.js';


export async function benchCore(root: string, config: EngineConfig, exchanges: readonly Exchange[], retriever: Retriever, seconds: number) {
  // 200-character messages built from the corpus.
  const messages = exchanges.map((e) => `${e.client_input} ${e.therapist_response}`.padEnd(200, ' and that is how it feels').slice(0, 200));
  const classifier = new Classifier(config.classification);
  const model = RiskModel.load(join(root, 'data', 'safety', 'risk_model.json'));
  const crisis = new CrisisCheck(config.safety, config.riskGrammar, model);
  const classificationsPerSec = Math.round(throughput((i) => classifier.classify(messages[i % messages.length]!), seconds));
  // As a turn runs it: the release phrases are read only in the safety state or while a check-in is open.
  const crisisChecksPerSec = Math.round(throughput((i) => crisis.assess(messages[i % messages.length]!, [], { release: false }), seconds));
  const crisisChecksPerSecWithRelease = Math.round(throughput((i) => crisis.assess(messages[i % messages.length]!), seconds));
  // The same on risk statements padded to 200 characters: every frame is tried, the model always scores.
  const risky = readLabelledTsv(join(root, 'data', 'safety', 'dev.tsv')).filter((l) => l.label !== 'N').map((l) => l.text.padEnd(200, ' and that is how it feels').slice(0, 200));
  const crisisChecksPerSecRisky = Math.round(throughput((i) => crisis.assess(risky[i % risky.length]!, [], { release: false }), seconds));

  // In-memory turns, closed loop: each session sends its next message when the last reply arrives.
  async function turns(sessions: number): Promise<number> {
    const engine = new Engine({ config, store: new MemorySessionStore(), retriever, riskModel: model });
    const turn = (s: number, i: number) => engine.handleTurn({ sessionId: `bench:${s}`, userId: `u${s}`, platform: 'bench', text: SCRIPT[i % SCRIPT.length]! });
    return Math.round(await closedLoop(sessions, seconds, turn));
  }
  const turnsPerSec1 = await turns(1);
  const turnsPerSec256 = await turns(256);

  // Detection quality: `npm run safety:eval` on every labelled file (data/safety/ and the test fixtures).
  const files = [
    ...['train', 'dev', 'test'].map((n) => join(root, 'data', 'safety', `${n}.tsv`)),
    ...readdirSync(join(root, 'test', 'fixtures')).filter((f) => f.startsWith('crisis_') && f.endsWith('.tsv')).map((f) => join(root, 'test', 'fixtures', f)),
  ];
  const crisisQuality: Record<string, { explicit: string; indirect: string; falseAlarms: string }> = {};
  for (const file of files) {
    const r = evaluate(crisis, readLabelledTsv(file), file);
    crisisQuality[relative(root, file)] = { explicit: formatRate(r.recall.E), indirect: formatRate(r.recall.I), falseAlarms: formatRate(r.falseAlarms) };
  }
  return { patterns: classifier.patternCount, classificationsPerSec, crisisChecksPerSec, crisisChecksPerSecWithRelease, crisisChecksPerSecRisky, turnsPerSec1, turnsPerSec256, crisisQuality };
}
