/** The navigator's state, apart from the navigator so its helpers can name it without a cycle. */
/** The navigator's part of a session's state. Plain JSON. */
export interface NavState {
  substate: string;
  /** Criteria met in the current substate. */
  criteriaMet: string[];
  /** Turns in the current substate without progress. */
  attempts: number;
  /** Times each interrupt fired in the current substate. */
  interruptCounts: Record<string, number>;
  /** Substates left so far, in order (for status and analytics). */
  completed: string[];
  /** Criteria of later substates the person already answered (counted when their substate comes). */
  ahead?: string[] | undefined;
  /** Criteria met here without being asked, not yet acknowledged (said when their question is skipped). */
  unasked?: string[] | undefined;
  /** The action of the last reply (an explanation never follows an explanation; `again` follows an ask). */
  lastAction?: string | undefined;
}
