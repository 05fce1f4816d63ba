/**
 * The Redis key layout (the design note's, with a prefix). Braces are literal:
 * `{<id>}` is a Redis Cluster hash tag, so every key of one session lives in
 * one slot and a session's scripts never cross slots. A person's keys are tagged
 * `{<platform:user>}`: their own slot, apart from any session's.
 *
 *   <p>:session:{<id>}:state     string   session state (JSON, encrypted when a key is set)
 *   <p>:session:{<id>}:history   list     one entry per message (JSON, encrypted when a key is set)
 *   <p>:session:{<id>}:meta      hash     platform, user, tenant, created, last_active, turn_count, schema_version, version
 *   <p>:session:{<id>}:lock      string   the per-session lock token (short TTL)
 *   <p>:session:{<id>}:participants set   everyone whose turns were committed here (`platform:user`), less
 *                                         those who erased their data (shared threads); the session's TTL
 *   <p>:session:{<id>}:llm_cache hash     request hash -> LLM answer (only with LLM_CACHE_TTL_SECONDS; encrypted; TTL)
 *   <p>:active_sessions          zset     session id -> last activity (ms)
 *   <p>:user:{<platform:user>}:sessions  set   the user's session ids (erasure and export)
 *   <p>:user:{<platform:user>}:prefs     hash  the user's preferences (session/prefs.ts; values encrypted when a key is set;
 *                                              the retention of their sessions, refreshed by each of their commits)
 *   <p>:audit                    stream   operator actions and erasures, capped
 */

import { InvalidSessionIdError } from '../store.js';

/** Session ids: letters, digits and `:._@-` (no braces, which would break the hash tag). */
export const SESSION_ID = /^[A-Za-z0-9:._@-]{1,256}$/;

export function assertSessionId(id: string): void {
  // The id itself is not quoted: it may be anything a forged request put there.
  if (!SESSION_ID.test(id)) throw new InvalidSessionIdError(`invalid session id (${id.length} characters): letters, digits and ":._@-" only, at most 256`);
}

export class KeyLayout {
  constructor(readonly prefix = 'trt') {}
  state(id: string): string {
    return `${this.prefix}:session:{${id}}:state`;
  }
  history(id: string): string {
    return `${this.prefix}:session:{${id}}:history`;
  }
  meta(id: string): string {
    return `${this.prefix}:session:{${id}}:meta`;
  }
  lock(id: string): string {
    return `${this.prefix}:session:{${id}}:lock`;
  }
  participants(id: string): string {
    return `${this.prefix}:session:{${id}}:participants`;
  }
  llmCache(id: string): string {
    return `${this.prefix}:session:{${id}}:llm_cache`;
  }
  /** All keys of one session (one slot). */
  session(id: string): [string, string, string, string] {
    return [this.lock(id), this.state(id), this.history(id), this.meta(id)];
  }
  get active(): string {
    return `${this.prefix}:active_sessions`;
  }
  user(userKey: string): string {
    return `${this.prefix}:user:{${userKey}}:sessions`;
  }
  /** One person's preferences (same slot as their session index). */
  prefs(userKey: string): string {
    return `${this.prefix}:user:{${userKey}}:prefs`;
  }
  get audit(): string {
    return `${this.prefix}:audit`;
  }
}
