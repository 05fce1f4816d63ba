/**
 * The real Redis override store, with the two things a race test must control:
 * when `list()` answers (a gate), and when change notifications arrive (the test
 * calls `onChange` / `onResync` itself instead of a live subscription).
 */
import { RedisOverrideStore } from '../../src/overrides/redis-override-store.js';
import type { OverrideStore, StoredOverride } from '../../src/overrides/override-store.js';
import type { Scope } from '../../src/overrides/override-doc.js';
import { client } from '../redis/helpers.js';

export class GatedStore implements OverrideStore {
  readonly real: RedisOverrideStore;
  onChange: ((id: string) => void) | undefined;
  onResync: (() => void) | undefined;
  listGate: Promise<void> | undefined;
  subscribeGate: Promise<void> | undefined;
  unsubscribed = 0;
  /** Calls of `list()` that read their snapshot and are held at `listGate`. */
  listsHeld = 0;
  /** Calls of `list()` that answered (the caller takes the snapshot in the same tick). */
  listed = 0;
  /** Calls of `subscribe()` made (each may wait at `subscribeGate`). */
  subscribes = 0;
  /** The next this many `list()` calls fail, as a Redis that is not answering would. */
  failLists = 0;

  private readonly conn = client();

  constructor(prefix: string) {
    this.real = new RedisOverrideStore({ client: this.conn, prefix });
  }

  /** Writes a version for real, without announcing it (as if the announcement was missed). */
  put(scope: Scope, doc: unknown): Promise<StoredOverride> {
    return this.real.set(scope, doc, 'test');
  }

  get(scope: Scope) {
    return this.real.get(scope);
  }

  async list() {
    if (this.failLists > 0) {
      this.failLists--;
      throw Object.assign(new Error('Command timed out'), { code: 'ETIMEDOUT' });
    }
    const snapshot = await this.real.list();
    if (this.listGate) {
      this.listsHeld++;
      await this.listGate;
    }
    this.listed++;
    return snapshot;
  }

  set(scope: Scope, doc: unknown, actor: string) {
    return this.real.set(scope, doc, actor);
  }

  rollback(scope: Scope, actor: string, to?: number) {
    return this.real.rollback(scope, actor, to);
  }

  delete(scope: Scope, actor: string) {
    return this.real.delete(scope, actor);
  }

  history(scope: Scope, limit?: number) {
    return this.real.history(scope, limit);
  }

  async subscribe(onChange: (id: string) => void, onResync: () => void) {
    this.subscribes++;
    if (this.subscribeGate) await this.subscribeGate;
    this.onChange = onChange;
    this.onResync = onResync;
    return async () => void this.unsubscribed++;
  }

  close(): void {
    this.conn.disconnect();
  }
}
