/**
 * Overrides in force in this process. All of them are loaded at start and kept in
 * memory; a change anywhere reaches this instance through the store's pub/sub
 * (well under a second), and a full reload runs whenever the subscription was
 * re-established and every 30 s as a safety net. Turns look their variant up in a
 * Map: no Redis round trip, no compilation, on the hot path.
 *
 * Layers apply in this order: tenant, then each experiment's arm (experiments by
 * name), then the style the last of those names. A layer that no longer fits the
 * base (found at read time) is skipped with an error log; the base stays in force.
 */
import type { EngineConfig } from '../config/load.js';
import type { Exchange } from '../config/schemas.js';
import { errorCode } from '../util/error-code.js';
import type { Logger } from '../util/logger.js';
import { applyLayer, validateOverride } from './effective.js';
import { ExperimentSchema, LayerSchema, parseScopeId, scopeId, type Experiment, type Layer } from './override-doc.js';
import type { OverrideStore, StoredOverride } from './override-store.js';
import { TenantMap, assignArm, compileVariant, type Audience, type ConfigSource, type TurnVariant } from './variant.js';

/** Variants kept compiled at once; beyond this the cache starts over (each is rebuilt on use). */
const MAX_VARIANTS = 1000;
const RESYNC_EVERY_MS = 30_000;

interface Loaded {
  version: number;
  layer?: Layer;
  experiment?: Experiment;
}

export class LiveOverrides implements ConfigSource {
  private readonly base: TurnVariant;
  private readonly tenants: TenantMap;
  private readonly loaded = new Map<string, Loaded>();
  private experiments: Array<[string, Experiment]> = [];
  private readonly variants = new Map<string, TurnVariant>();
  private unsubscribe: (() => Promise<void>) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Bumped by every change: a reload that started before a newer one must not win. */
  private generation = 0;

  constructor(
    private readonly baseConfig: EngineConfig,
    private readonly exchanges: readonly Exchange[],
    private readonly store: OverrideStore,
    private readonly logger: Logger,
  ) {
    this.base = compileVariant(baseConfig, baseConfig.navigation.version, undefined, {});
    this.tenants = new TenantMap(baseConfig.tenants);
  }

  /** Loads every override and subscribes to changes. A store that cannot be reached leaves the base in force and retries. */
  async start(): Promise<void> {
    await this.subscribe();
    await this.reloadAll();
    this.timer = setInterval(() => {
      if (!this.unsubscribe && !this.stopped) void this.subscribe();
      void this.reloadAll();
    }, RESYNC_EVERY_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.unsubscribe?.().catch(() => undefined);
  }

  private stopped = false;

  /** A subscription that cannot be made now is retried with the next resync; turns carry on meanwhile. */
  private async subscribe(): Promise<void> {
    try {
      this.unsubscribe = await this.store.subscribe(
        (id) => void this.reload(id),
        () => void this.reloadAll(),
      );
    } catch (err) {
      this.logger.warn({ err: errorCode(err) }, 'override changes cannot be followed yet; retrying every 30 s (the overrides loaded stay in force)');
    }
  }

  /** Scope id -> version of every override in force here (for status and tests). */
  inForce(): Record<string, number> {
    return Object.fromEntries([...this.loaded].map(([id, l]) => [id, l.version]));
  }

  variant(who: Audience): TurnVariant {
    const tenant = this.tenants.name(who.platform, who.tenant);
    if (this.loaded.size === 0) return tenant === undefined ? this.base : this.cached(`t:${tenant}`, () => ({ ...this.base, tenant }));
    let key = tenant === undefined ? '' : tenant;
    let arms: Record<string, string> | undefined;
    for (const [name, e] of this.experiments) {
      if (!e.active || (e.tenants && (tenant === undefined || !e.tenants.includes(tenant)))) continue;
      const arm = assignArm(name, `${who.platform}:${who.userId}`, e.split);
      (arms ??= {})[name] = arm;
      key += `|${name}=${arm}`;
    }
    return this.cached(key, () => this.build(tenant, arms ?? {}));
  }

  private cached(key: string, make: () => TurnVariant): TurnVariant {
    let v = this.variants.get(key);
    if (!v) {
      if (this.variants.size >= MAX_VARIANTS) this.variants.clear();
      v = make();
      this.variants.set(key, v);
    }
    return v;
  }

  /** Applies the layers for a tenant and arms over the base; compiles the result once. */
  private build(tenant: string | undefined, arms: Record<string, string>): TurnVariant {
    let config = this.baseConfig;
    let version = this.baseConfig.navigation.version;
    let style: string | undefined;
    const apply = (layer: Layer | undefined, label: string) => {
      if (!layer) return;
      const applied = applyLayer(config, layer, `override ${label}`, this.exchanges);
      if (applied.problems.length > 0) {
        // Valid when written, but not over this base (or this combination): the layer is left out.
        this.logger.error({ override: label, problems: applied.problems.map((p) => `${p.path}: ${p.message}`).slice(0, 5) }, 'override does not fit; left out, the rest stays in force');
        return;
      }
      config = applied.config;
      version += `+${label}`;
      if (layer.style) style = layer.style;
    };
    if (tenant !== undefined) {
      const t = this.loaded.get(`tenant:${tenant}`);
      apply(t?.layer, `tenant:${tenant}@${t?.version}`);
    }
    for (const [name, arm] of Object.entries(arms)) {
      const e = this.loaded.get(`experiment:${name}`);
      apply(e?.experiment?.arms[arm], `experiment:${name}=${arm}@${e?.version}`);
    }
    if (style) {
      const s = this.loaded.get(`style:${style}`);
      apply(s?.layer, `style:${style}@${s?.version}`);
    }
    if (config === this.baseConfig) return { ...this.base, tenant, experiments: arms };
    return compileVariant(config, version, tenant, arms);
  }

  private async reloadAll(): Promise<void> {
    const generation = ++this.generation;
    try {
      const all = await this.store.list();
      if (generation !== this.generation) return;
      this.loaded.clear();
      for (const stored of all) this.take(stored);
      this.changed();
    } catch (err) {
      this.logger.warn({ err: errorCode(err) }, 'overrides could not be reloaded; those in force stay');
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
    this.variants.clear();
  }
}
