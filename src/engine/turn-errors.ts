/** Why a turn ended without being recorded, so a queue can redo it. */
import type { TurnKind } from './observer.js';

/** The turn was handed to another worker before its reply went out. */
export class TurnAbortedError extends Error {
  readonly code = 'TURN_ABORTED';
}

/** The platform took none of the reply: the turn is not recorded, so it can be redone. */
export class NotDeliveredError extends Error {
  readonly code = 'NOT_DELIVERED';
  constructor(
    readonly kind: TurnKind,
    readonly reply: string,
  ) {
    super('reply not delivered');
  }
}
