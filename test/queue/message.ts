/** A queued message for queue tests: unique ids, user U1 on the `test` platform unless `extra` says otherwise. */
import type { QueuedMessage } from '../../src/queue/turn-queue.js';

let n = 0;
export function message(sessionId: string, text: string, extra: Partial<QueuedMessage> = {}): QueuedMessage {
  return { id: `m${++n}`, sessionId, userId: 'U1', platform: 'test', text, replyTo: {}, receivedAt: Date.now(), ...extra };
}
