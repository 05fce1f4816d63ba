/** Reading and faking the engine's TurnResult in tests. */
import type { Answered, TurnKind, TurnResult } from '../src/index.js';

/** The result as an answered turn; fails the test, naming the outcome, when it is anything else. */
export function answered(r: TurnResult): Answered {
  if (r.outcome !== 'answered') throw new Error(`expected an answered turn, got ${r.outcome} (${'why' in r ? r.why : r.kind})`);
  return r;
}

/** What a fake engine returns for a turn it answered (`delivered`: it called `hooks.deliver`). */
export function answeredTurn(sessionId: string, reply: string, opts: { kind?: TurnKind; delivered?: boolean } = {}): Answered {
  return { outcome: 'answered', sessionId, kind: opts.kind ?? 'reply', reply, delivered: opts.delivered ?? false, substate: 'test', action: undefined };
}
