/**
 * Where overrides are kept: the interface, with the Redis implementation beside
 * it (redis-override-store.ts). Every write keeps the previous version; a
 * rollback writes an earlier version again (a new version, so history only grows);
 * each change is announced to every instance and leaves an audit entry.
 */
import type { Scope } from './override-doc.js';

export interface StoredOverride {
  scope: Scope;
  /** 1, 2, 3… per scope, one per write (a set, a rollback or a delete). */
  version: number;
  /** The document (validated when written); null: deleted at this version. */
  doc: unknown;
  /** ISO time of the write, and who made it (OPERATOR or the OS user). */
  at: string;
  actor: string;
  /** `set`, `rollback` (with `from`: the version written again) or `delete`. */
  action: 'set' | 'rollback' | 'delete';
  from?: number | undefined;
}

export interface OverrideStore {
  /** The current override of a scope; undefined when none (never set, or deleted). */
  get(scope: Scope): Promise<StoredOverride | undefined>;
  /** Every scope with a current override (the in-process cache loads these at start). */
  list(): Promise<StoredOverride[]>;
  /** Writes a new version (the caller validated it), announces it, audits it. */
  set(scope: Scope, doc: unknown, actor: string): Promise<StoredOverride>;
  /** Writes version `to` (default: the one before the current) again as a new version. */
  rollback(scope: Scope, actor: string, to?: number): Promise<StoredOverride>;
  /** Removes the current override (history is kept). */
  delete(scope: Scope, actor: string): Promise<StoredOverride>;
  /** Every version, newest first. */
  history(scope: Scope, limit?: number): Promise<StoredOverride[]>;
  /**
   * Calls `onChange(scopeId)` when any instance changes a scope, and `onResync()` when
   * messages may have been missed (the subscription was re-established): reload everything.
   */
  subscribe(onChange: (scopeId: string) => void, onResync: () => void): Promise<() => Promise<void>>;
}

/** Thrown by rollback when there is no such version (or nothing to roll back to). */
export class NoSuchVersionError extends Error {
  readonly code = 'NO_SUCH_VERSION';
}
