/** runBatch hands streamed previews from the engine to an outlet that can show them. */
import { describe, expect, it } from 'vitest';
import { runBatch, silentLogger, type InboxMessage, type RunnerDeps, type TurnHooks, type TurnInput } from '../../src/index.js';
import { RecordingOutlet } from './recording-outlet.js';
import { answeredTurn } from '../turn-results.js';

/** An engine that streams "a", "ab", then delivers a different final reply (a guard replaced it). */
function streamingEngine(seen: { preview?: boolean }): RunnerDeps['engine'] {
  return {
    handleTurn: async (input: TurnInput, hooks?: TurnHooks) => {
      seen.preview = hooks?.preview !== undefined;
      hooks?.preview?.('a');
      hooks?.preview?.('ab');
      const delivered = (await hooks?.deliver?.('final')) !== false;
      return answeredTurn(input.sessionId, 'final', { delivered });
    },
    crisisResponse: () => null,
    texts: { disclosure: '', help: '', unavailable: 'try again', unsure: 'maybe' },
  };
}

const batch: InboxMessage[] = [{ id: 'm1', seq: 1, sessionId: 'test:s1', userId: 'U1', platform: 'test', text: 'hello', replyTo: {}, receivedAt: Date.now() }];

describe('runBatch and streaming previews', () => {
  it('passes previews through to an outlet that shows them; the final reply is delivered once', async () => {
    const outlet = new RecordingOutlet({ previews: true });
    const seen: { preview?: boolean } = {};
    await runBatch({ engine: streamingEngine(seen), outlets: { test: outlet }, logger: silentLogger }, 'test:s1', batch);
    expect(outlet.previews.map((p) => p.text)).toEqual(['a', 'ab']);
    expect(outlet.for('test:s1')).toEqual(['final']);
  });

  it('gives the engine no preview hook when the outlet cannot show previews', async () => {
    const outlet = new RecordingOutlet();
    const seen: { preview?: boolean } = {};
    await runBatch({ engine: streamingEngine(seen), outlets: { test: outlet }, logger: silentLogger }, 'test:s1', batch);
    expect(seen.preview).toBe(false);
    expect(outlet.for('test:s1')).toEqual(['final']);
  });
});
