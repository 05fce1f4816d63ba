/**
 * Overrides in force in this process. All of them are loaded at start and kept in
 * memory; a change anywhere reaches this instance through the store's pub/sub
 * (well under a second), and a full reload runs whenever the subscription was
 * re-established and every 30 s as a safety net (it changes nothing when the
 * versions are the same). Turns look their variant up in a Map: no Redis round
 * trip on the hot path. A combination of layers is compiled once (a few ms) on
 * its first turn after a change, and kept (least recently used evicted).
 *
 * Layers apply in this order: tenant, then each experiment's arm (experiments by
 * name), then the style the last of those names. A layer that no longer fits the
 * base (found at read time) is skipped with an error log; the base stays in force,
 * and a person whose arm was skipped is not counted in that arm.
 */
import type { EngineConfig } from '../config/load.js';
import type { Exchange } from '../config/schemas.js';
import { errorCode } from '../util/error-code.js';
import type { Logger } from '../util/logger.js';
import { applyLayer, validateOverride } from './effective.js';
import { ExperimentSchema, LayerSchema, parseScopeId, scopeId, type Experiment, type Layer } from './override-doc.js';
import type { OverrideStore, StoredOverride } from './override-store.js';
import { StaticConfig, assignArm, compileVariant, type Audience, type ConfigSource, type TurnVariant } from './variant.js';

/** Compiled combinations of layers kept at once (each holds a classifier automaton). */
const MAX_COMPILED = 200;
/** Lookups kept at once (cheap objects: a tenant and arms over a compiled combination). */
const MAX_VIEWS = 20_000;
const RESYNC_EVERY_MS = 30_000;
/** The first load is retried until it succeeds: 250 ms doubling, at most this far apart. */
const FIRST_LOAD_RETRY_MAX_MS = 5000;

interface Loaded {
  version: number;
  layer?: Layer;
  experiment?: Experiment;
}

/** A compiled combination of layers, and the arms whose layer it could not apply. */
interface Compiled {
  variant: TurnVariant;
  skippedArms: Set<string>;
}

export class LiveOverrides implements ConfigSource {
  readonly base: TurnVariant;
  /** The base config for everyone: what is in force while no override is. */
  private readonly fixed: StaticConfig;
  private readonly loaded = new Map<string, Loaded>();
  private experiments: Array<[string, Experiment]> = [];
  private readonly compiled = new Map<string, Compiled>();
  private readonly views = new Map<string, TurnVariant>();
  private unsubscribe: (() => Promise<void>) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Bumped by every reload: a result read before a newer change must not win. */
  private generation = 0;
  private fullRunning = false;
  private fullAgain = false;
  private firstLoad = false;

  constructor(
    private readonly baseConfig: EngineConfig,
    private readonly exchanges: readonly Exchange[],
    private readonly store: OverrideStore,
    private readonly logger: Logger,
  ) {
    this.fixed = new StaticConfig(baseConfig);
    this.base = this.fixed.base;
  }

  /** Every override has been read at least once: until then nothing may be answered (a turn would get the base config, the wrong arm). */
  get ready(): boolean {
    return this.firstLoad;
  }

  /**
   * Subscribes to changes and loads every override. Resolves only once they are loaded: a store
   * that cannot be read (or is slow) delays start-up, logged on every try, and is retried until it
   * answers or `stop()`. After that a failed reload leaves the overrides in force and retries.
   */
  async start(): Promise<void> {
    await this.subscribe();
    for (let attempt = 1, wait = 250; !this.stopped; attempt++, wait = Math.min(wait * 2, FIRST_LOAD_RETRY_MAX_MS)) {
      if (await this.reloadAll()) break;
      this.logger.warn({ attempt, retryInMs: wait }, 'overrides not loaded yet: not answering until they are; retrying');
      await new Promise((r) => setTimeout(r, wait).unref());
    }
    if (this.stopped) return;
    this.firstLoad = true;
    this.timer = setInterval(() => {
      if (!this.unsubscribe) void this.subscribe();
      void this.reloadAll();
    }, RESYNC_EVERY_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.unsubscribe?.().catch(() => undefined);
    this.unsubscribe = undefined;
  }

  /** Scope id -> version of every override in force here (for status and tests). */
  inForce(): Record<string, number> {
    return Object.fromEntries([...this.loaded].map(([id, l]) => [id, l.version]));
  }

  variant(who: Audience): TurnVariant {
    if (this.loaded.size === 0) return this.fixed.variant(who);
    const tenant = this.fixed.tenantName(who.platform, who.tenant);
    // The layers that apply: the tenant's (if it has one) and each experiment's arm.
    let layers = tenant !== undefined && this.loaded.has(`tenant:${tenant}`) ? `t:${tenant}` : '';
    let arms: Record<string, string> | undefined;
    for (const [name, e] of this.experiments) {
      if (!e.active || (e.tenants && (tenant === undefined || !e.tenants.includes(tenant)))) continue;
      const arm = assignArm(name, `${who.platform}:${who.userId}`, e.split);
      (arms ??= {})[name] = arm;
      layers += `|${name}=${arm}`;
    }
    return this.view(`${tenant ?? ''}|${layers}`, () => {
      const c = this.compile(layers, tenant, arms ?? {});
      // A person whose arm could not be applied got the rest: they are not counted in that arm.
      const experiments = Object.fromEntries(Object.entries(arms ?? {}).filter(([name]) => !c.skippedArms.has(name)));
      return { ...c.variant, tenant, experiments };
    });
  }

  /** Views are cheap to remake: the oldest goes first, and a hit costs one Map get (no reordering). */
  private view(key: string, make: () => TurnVariant): TurnVariant {
    let v = this.views.get(key);
    if (v === undefined) {
      v = make();
      this.views.set(key, v);
      if (this.views.size > MAX_VIEWS) this.views.delete(this.views.keys().next().value!);
    }
    return v;
  }

  private compile(layers: string, tenant: string | undefined, arms: Record<string, string>): Compiled {
    return lru(this.compiled, layers, MAX_COMPILED, () => this.build(tenant, arms));
  }

  /** Applies the layers for a tenant and arms over the base; compiles the result once. */
  private build(tenant: string | undefined, arms: Record<string, string>): Compiled {
    let config = this.baseConfig;
    let version = this.baseConfig.navigation.version;
    let style: string | undefined;
    const skippedArms = new Set<string>();
    const apply = (layer: Layer | undefined, label: string): boolean => {
      if (!layer) return true;
      const applied = applyLayer(config, layer, `override ${label}`, this.exchanges);
      if (applied.problems.length > 0) {
        // Valid when written, but not over this base (or this combination): the layer is left out.
        this.logger.error({ override: label, problems: applied.problems.map((p) => `${p.path}: ${p.message}`).slice(0, 5) }, 'override does not fit; left out, the rest stays in force');
        return false;
      }
      config = applied.config;
      version += `+${label}`;
      if (layer.style) style = layer.style;
      return true;
    };
    if (tenant !== undefined) {
      const t = this.loaded.get(`tenant:${tenant}`);
      apply(t?.layer, `tenant:${tenant}@${t?.version}`);
    }
    for (const [name, arm] of Object.entries(arms)) {
      const e = this.loaded.get(`experiment:${name}`);
      if (!apply(e?.experiment?.arms[arm], `experiment:${name}=${arm}@${e?.version}`)) skippedArms.add(name);
    }
    if (style) {
      const s = this.loaded.get(`style:${style}`);
      apply(s?.layer, `style:${style}@${s?.version}`);
    }
    const variant = config === this.baseConfig ? this.base : compileVariant(config, version, undefined, {});
    return { variant, skippedArms };
  }

  /** A subscription that cannot be made now is retried with the next resync; turns carry on meanwhile. */
  private async subscribe(): Promise<void> {
    try {
      const unsubscribe = await this.store.subscribe(
        (id) => void this.reload(id),
        () => void this.reloadAll(),
      );
      if (this.stopped) await unsubscribe().catch(() => undefined); // stopped while subscribing
      else this.unsubscribe = unsubscribe;
    } catch (err) {
      this.logger.warn({ err: errorCode(err) }, 'override changes cannot be followed yet; retrying every 30 s (the overrides loaded stay in force)');
    }
  }

  /** Reads every override. One at a time; a change while one runs makes it run again. False when the store could not be read. */
  private async reloadAll(): Promise<boolean> {
    if (this.fullRunning) {
      this.fullAgain = true;
      return true;
    }
    this.fullRunning = true;
    try {
      do {
        this.fullAgain = false;
        const generation = ++this.generation;
        let all: StoredOverride[];
        try {
          all = await this.store.list();
        } catch (err) {
          this.logger.warn({ err: errorCode(err) }, this.firstLoad ? 'overrides could not be reloaded; those in force stay' : 'overrides could not be read');
          return false;
        }
        if (generation !== this.generation) this.fullAgain = true; // a change arrived meanwhile: read again
        else this.replaceAll(all);
      } while (this.fullAgain && !this.stopped);
      return true;
    } finally {
      this.fullRunning = false;
    }
  }

  private async reload(id: string): Promise<void> {
    const scope = parseScopeId(id);
    if (!scope) return;
    const generation = ++this.generation;
    try {
      const stored = await this.store.get(scope);
      if (generation !== this.generation) return void this.reloadAll(); // another change raced this one: take them all
      this.loaded.delete(id);
      if (stored) this.take(stored);
      this.changed();
      this.logger.info({ override: id, version: stored?.version ?? null }, 'override changed');
    } catch (err) {
      this.logger.warn({ override: id, err: errorCode(err) }, 'override could not be reloaded; retrying with a full reload');
      setTimeout(() => void this.reloadAll(), 1000).unref();
    }
  }

  /** Takes a full list; nothing is recompiled when every version is the same as before. */
  private replaceAll(all: StoredOverride[]): void {
    const before = new Map(this.loaded);
    this.loaded.clear();
    for (const stored of all) {
      const id = scopeId(stored.scope);
      const same = before.get(id);
      if (same?.version === stored.version) this.loaded.set(id, same); // validated when it was taken
      else this.take(stored);
    }
    const unchanged = before.size === this.loaded.size && [...this.loaded].every(([id, l]) => before.get(id) === l);
    if (!unchanged) this.changed();
  }

  /** Keeps a stored override if it is still valid over the base; an invalid one is logged and ignored. */
  private take(stored: StoredOverride): void {
    const id = scopeId(stored.scope);
    if (stored.doc === null) return;
    const problems = validateOverride(this.baseConfig, this.exchanges, stored.scope, stored.doc);
    if (problems.length > 0) {
      this.logger.error({ override: id, version: stored.version, problems: problems.map((p) => `${p.path}: ${p.message}`).slice(0, 5) }, 'invalid override ignored; the base stays in force');
      return;
    }
    if (stored.scope.kind === 'experiment') this.loaded.set(id, { version: stored.version, experiment: ExperimentSchema.parse(stored.doc) });
    else this.loaded.set(id, { version: stored.version, layer: LayerSchema.parse(stored.doc) });
  }

  private changed(): void {
    this.experiments = [...this.loaded]
      .filter(([, l]) => l.experiment)
      .map(([id, l]): [string, Experiment] => [id.slice('experiment:'.length), l.experiment!])
      .sort(([a], [b]) => a.localeCompare(b));
    this.compiled.clear();
    this.views.clear();
  }
}

/** A Map used as a least-recently-used cache: a hit moves to the end, the oldest goes first. */
function lru<V>(map: Map<string, V>, key: string, max: number, make: () => V): V {
  let v = map.get(key);
  if (v !== undefined) {
    map.delete(key);
    map.set(key, v);
    return v;
  }
  v = make();
  map.set(key, v);
  if (map.size > max) map.delete(map.keys().next().value!);
  return v;
}
