/**
 * Overrides in Redis: every write is a new version in the scope's history, the
 * current one is a plain string read at start and on change, and each write is
 * announced on a pub/sub channel so every instance reloads it within a second.
 *
 * Keys (prefix `REDIS_KEY_PREFIX`). Braces are literal: `{<scopeId>}` is a Redis
 * Cluster hash tag, so one scope's keys share a slot and its write script never
 * crosses slots.
 *
 *   <p>:config:{<scopeId>}:current  string   the current StoredOverride (JSON); absent: none (never set, or deleted)
 *   <p>:config:{<scopeId>}:history  list     every version's StoredOverride (JSON), oldest first, capped at
 *                                            HISTORY_MAX (1,000) entries: years of operator changes
 *   <p>:config:index                set      scope ids with a current override (list() at start)
 *   <p>:config:changed              channel  pub/sub: the scope id of each change
 *
 * scopeId is `tenant:acme`, `experiment:tone`, `style:warm` (override-doc.ts).
 */
import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from '../redis/connection.js';
import { SCOPE_NAME, parseScopeId, scopeId, type Scope } from './override-doc.js';
import { NoSuchVersionError, type OverrideStore, type StoredOverride } from './override-store.js';

/** Versions kept per scope; older ones drop off (a rollback to them is refused). */
export const HISTORY_MAX = 1000;

export interface AuditEntry {
  actor: string;
  action: string;
  target: string;
  [field: string]: string;
}

export interface RedisOverrideStoreOptions {
  client: RedisClient;
  /** Key prefix (REDIS_KEY_PREFIX), e.g. `trt`. */
  prefix: string;
  /** Records each change (RedisSessionStore.audit: the shared audit stream). Default: none. */
  audit?: (entry: AuditEntry) => Promise<void>;
}

/**
 * KEYS: current, history.
 * ARGV: mode (set | rollback), head (the entry's JSON fields, no braces), doc JSON (set; `null` deletes),
 *       rollback target version ('' = the newest earlier version with a document), history max, channel, scope id.
 * -> {1, entry JSON} | {0, reason}.
 *
 * The document is spliced as text, never decoded and re-encoded: Lua's cjson would turn `[]` into `{}`
 * and round numbers. Entries keep `"doc"` last, so the text after the first `,"doc":` is the document
 * (that sequence cannot occur inside an earlier JSON string, where every quote is escaped).
 */
const WRITE = `
local function version_of(entry) return tonumber(string.match(entry, '^{"version":(%d+),')) end
local function doc_of(entry)
  local i = string.find(entry, ',"doc":', 1, true)
  return string.sub(entry, i + 7, -2)
end
local last = redis.call('LINDEX', KEYS[2], -1)
local prev = 0
if last then prev = version_of(last) end
local doc = ARGV[3]
local from = ''
if ARGV[1] == 'rollback' then
  if not last then return {0, 'nothing to roll back to: no versions'} end
  local n = redis.call('LLEN', KEYS[2])
  local first = version_of(redis.call('LINDEX', KEYS[2], 0))
  local target
  if ARGV[4] == '' then
    for i = n - 2, 0, -1 do
      local e = redis.call('LINDEX', KEYS[2], i)
      if doc_of(e) ~= 'null' then target = e break end
    end
    if not target then return {0, 'nothing to roll back to: no earlier version with a document'} end
  else
    local want = tonumber(ARGV[4])
    if want < first or want > prev then return {0, 'no version ' .. want .. ' (kept: ' .. first .. ' to ' .. prev .. ')'} end
    target = redis.call('LINDEX', KEYS[2], want - first)
  end
  doc = doc_of(target)
  from = ',"from":' .. version_of(target)
end
local version = prev + 1
local entry = '{"version":' .. version .. ',' .. ARGV[2] .. from .. ',"doc":' .. doc .. '}'
redis.call('RPUSH', KEYS[2], entry)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[5]), -1)
if doc == 'null' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], entry) end
redis.call('PUBLISH', ARGV[6], ARGV[7])
return {1, entry}
`;

interface Scripts {
  trtOverrideWrite(current: string, history: string, mode: string, head: string, doc: string, to: string, max: number, channel: string, id: string): Promise<[number, string]>;
}

export class RedisOverrideStore implements OverrideStore {
  private readonly redis: RedisClient & Scripts;
  private readonly prefix: string;
  private readonly auditFn: ((entry: AuditEntry) => Promise<void>) | undefined;

  constructor(opts: RedisOverrideStoreOptions) {
    this.prefix = opts.prefix;
    this.auditFn = opts.audit;
    (opts.client as Redis).defineCommand('trtOverrideWrite', { numberOfKeys: 2, lua: WRITE });
    this.redis = opts.client as RedisClient & Scripts;
  }

  /** The key layout above (tests and operators' redis-cli use them). */
  current(id: string): string {
    return `${this.prefix}:config:{${id}}:current`;
  }
  historyKey(id: string): string {
    return `${this.prefix}:config:{${id}}:history`;
  }
  get index(): string {
    return `${this.prefix}:config:index`;
  }
  get channel(): string {
    return `${this.prefix}:config:changed`;
  }

  async get(scope: Scope): Promise<StoredOverride | undefined> {
    const raw = await this.redis.get(this.current(checkedId(scope)));
    return raw ? (JSON.parse(raw) as StoredOverride) : undefined;
  }

  async list(): Promise<StoredOverride[]> {
    const ids = (await this.redis.smembers(this.index)).filter((id) => parseScopeId(id) !== undefined).sort();
    // One GET per scope (each in its own slot, so no MGET on a Cluster), issued together.
    const raws = await Promise.all(ids.map((id) => this.redis.get(this.current(id))));
    // An id whose current is gone (a delete racing a set between the script and SREM) is skipped, not
    // removed here: a set may have just written it, and the next write of that scope repairs the index.
    return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as StoredOverride);
  }

  async set(scope: Scope, doc: unknown, actor: string): Promise<StoredOverride> {
    if (doc === null || doc === undefined) throw new TypeError('an override document is required (use delete to remove one)');
    return this.write(scope, 'set', actor, JSON.stringify(doc));
  }

  async rollback(scope: Scope, actor: string, to?: number): Promise<StoredOverride> {
    if (to !== undefined && !(Number.isInteger(to) && to >= 1)) throw new NoSuchVersionError(`no version ${to} of ${scopeId(scope)}`);
    return this.write(scope, 'rollback', actor, 'null', to);
  }

  async delete(scope: Scope, actor: string): Promise<StoredOverride> {
    return this.write(scope, 'delete', actor, 'null');
  }

  async history(scope: Scope, limit = HISTORY_MAX): Promise<StoredOverride[]> {
    const raw = await this.redis.lrange(this.historyKey(checkedId(scope)), -Math.max(1, limit), -1);
    return raw.reverse().map((r) => JSON.parse(r) as StoredOverride);
  }

  private async write(scope: Scope, action: StoredOverride['action'], actor: string, doc: string, to?: number): Promise<StoredOverride> {
    const id = checkedId(scope);
    // Field order matters: the script appends `from` and then `doc`, which must come last (see WRITE).
    const head = JSON.stringify({ scope: { kind: scope.kind, name: scope.name }, at: new Date().toISOString(), actor, action }).slice(1, -1);
    const mode = action === 'rollback' ? 'rollback' : 'set';
    const [ok, result] = await this.redis.trtOverrideWrite(this.current(id), this.historyKey(id), mode, head, doc, to === undefined ? '' : String(to), HISTORY_MAX, this.channel, id);
    if (ok !== 1) throw new NoSuchVersionError(`${id}: ${result}`);
    const entry = JSON.parse(result) as StoredOverride;
    // The index lives in another slot, so it cannot join the script; a crash in between leaves it to
    // the next write of this scope (SADD/SREM are idempotent), and list() tolerates a stale member.
    if (entry.doc === null) await this.redis.srem(this.index, id);
    else await this.redis.sadd(this.index, id);
    await this.auditFn?.({
      actor,
      action: `override_${action}`,
      target: id,
      version: String(entry.version),
      // Never the document: it is config text, and the audit stream stays small and content-free.
      ...(entry.from !== undefined ? { from: String(entry.from) } : {}),
    });
    return entry;
  }

  /**
   * Subscribes on a duplicate connection (a subscribed connection can run nothing else). onResync
   * runs after the first SUBSCRIBE is confirmed and after every reconnect, once the channel is
   * subscribed again: anything published while the connection was down may have been missed.
   */
  async subscribe(onChange: (scopeId: string) => void, onResync: () => void): Promise<() => Promise<void>> {
    const sub = this.duplicate();
    const channel = this.channel;
    // Callbacks belong to the caller (live-overrides.ts logs its own failures); a throw must not
    // reach ioredis's reply parser, which would drop the connection.
    const safely = (fn: () => unknown) => {
      try {
        void Promise.resolve(fn()).catch(() => undefined);
      } catch {
        /* see above */
      }
    };
    let first = true;
    let closed = false;
    const onMessage = (ch: string, message: string) => {
      if (ch === channel) safely(() => onChange(message));
    };
    const onReady = () => {
      if (first || closed) return;
      // ioredis re-subscribes by itself on reconnect, but 'ready' fires before Redis confirms it;
      // our own SUBSCRIBE is answered after that one, so the reload starts with the channel live.
      sub.subscribe(channel).then(
        () => !closed && safely(onResync),
        () => undefined, // the connection dropped again: the next 'ready' retries
      );
    };
    sub.on('error', () => undefined); // reconnection is automatic; an unhandled 'error' event would crash the process
    sub.on('message', onMessage);
    sub.on('ready', onReady);
    try {
      await sub.subscribe(channel);
    } catch (err) {
      sub.disconnect(); // unreachable now: the caller retries with a fresh subscribe(), not this connection
      throw err;
    }
    first = false;
    safely(onResync);
    return async () => {
      closed = true;
      sub.off('message', onMessage);
      sub.off('ready', onReady);
      await sub.quit().catch(() => sub.disconnect());
    };
  }

  /**
   * A connection of its own for SUBSCRIBE, named so `CLIENT LIST` shows what it is. On a Cluster,
   * ioredis subscribes through one node and silently moves to another when that node fails; the
   * Cluster's own 'ready' only follows a full reconnect, so the caller's periodic reload covers that case.
   */
  private duplicate(): Redis | Cluster {
    if (this.redis.isCluster) return (this.redis as Cluster).duplicate();
    return (this.redis as Redis).duplicate({ connectionName: `${this.prefix}:config-subscriber`, lazyConnect: true });
  }
}

/** The scope's id, after checking its name (a brace or space would break the hash tag or the key). */
function checkedId(scope: Scope): string {
  if (!SCOPE_NAME.test(scope.name)) throw new TypeError(`invalid ${scope.kind} name ${JSON.stringify(scope.name.slice(0, 80))}: letters, digits, "_", "." or "-", at most 64`);
  return scopeId(scope);
}
