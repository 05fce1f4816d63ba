/**
 * Queue keys. Per-session keys share the session's hash tag `{<id>}` (one slot
 * with its session keys), so each session's scripts stay in one slot on a
 * Cluster; the wake-up stream is one key of its own.
 *
 *   <p>:queue:{<id>}:inbox        list    "<seq>|<message JSON, encrypted when a key is set>", arrival order
 *   <p>:queue:{<id>}:seq          string  last sequence number given out in this session
 *   <p>:queue:{<id>}:owner        string  token of the worker draining the inbox (short TTL, renewed)
 *   <p>:queue:{<id>}:seen:<msg>   string  dedupe of a platform event/message id (2 h)
 *   <p>:queue:{<id>}:attempts     string  failed tries of the inbox's head (reset when it is answered)
 *   <p>:queue:{<id>}:parked:<seq> string  the message with that seq was parked (7 days): parked and told once
 *   <p>:queue:{<id>}:message      string  "<head seq>|<shows>|<platform id>": the message the turn at the head
 *                                         has on screen (turn-message.ts); deleted as its messages are answered
 *   <p>:queue:turns               stream  wake-ups {s: <session id>}, consumer group "workers"
 *   <p>:queue:dead                stream  dead letters: batches parked after MAX_ATTEMPTS failed tries
 *                                         (see dead-letters.ts; capped, kept 7 days)
 */
export class QueueKeys {
  constructor(readonly prefix = 'trt') {}
  inbox(id: string): string {
    return `${this.prefix}:queue:{${id}}:inbox`;
  }
  seq(id: string): string {
    return `${this.prefix}:queue:{${id}}:seq`;
  }
  owner(id: string): string {
    return `${this.prefix}:queue:{${id}}:owner`;
  }
  attempts(id: string): string {
    return `${this.prefix}:queue:{${id}}:attempts`;
  }
  parked(id: string, seq: number): string {
    return `${this.prefix}:queue:{${id}}:parked:${seq}`;
  }
  message(id: string): string {
    return `${this.prefix}:queue:{${id}}:message`;
  }
  seen(id: string, messageId: string): string {
    return `${this.prefix}:queue:{${id}}:seen:${messageId}`;
  }
  get stream(): string {
    return `${this.prefix}:queue:turns`;
  }
  get dead(): string {
    return `${this.prefix}:queue:dead`;
  }
}

export const GROUP = 'workers';
