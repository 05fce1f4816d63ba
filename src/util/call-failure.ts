/** Why a call to a remote model API failed (a code, never message text): shared by the LLM responder and moderation. */
export type CallFailure =
  | 'timeout'
  | 'rate_limited'
  | 'server_error'
  | 'http_error'
  | 'connection'
  | 'malformed'
  /** The caller's signal aborted the call (the turn was handed over): nobody waits for it. */
  | 'aborted';
