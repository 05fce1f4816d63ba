/**
 * A config variant: the effective config for one combination of tenant,
 * experiment arms and style, with the parts a turn needs compiled from it once
 * (classifier automaton, navigator, offline lines). Turns look variants up by
 * key in memory; nothing is compiled or read from Redis on the hot path.
 */
import { Classifier } from '../classifier/classifier.js';
import type { EngineConfig } from '../config/load.js';
import { Navigator } from '../navigator/navigator.js';
import { OfflineResponder } from '../responder/offline-responder.js';

export interface TurnVariant {
  /** The config version a session records: the base's, plus each layer applied (`+tenant:acme@3`). */
  version: string;
  config: EngineConfig;
  classifier: Classifier;
  navigator: Navigator;
  offline: OfflineResponder;
  /** Tenant name (mapped from the Slack team / Discord guild id); undefined: none. */
  tenant: string | undefined;
  /** Experiment -> the arm this person is in. */
  experiments: Record<string, string>;
}

/** Who a turn is for, as far as config is concerned. */
export interface Audience {
  platform: string;
  userId: string;
  /** The platform's workspace id (Slack team, Discord guild), before mapping. */
  tenant?: string | undefined;
}

export interface ConfigSource {
  /** The variant for a turn: about a microsecond, from memory. */
  variant(who: Audience): TurnVariant;
  /** The base config's variant (no overrides). */
  readonly base: TurnVariant;
}

export function compileVariant(config: EngineConfig, version: string, tenant: string | undefined, experiments: Record<string, string>): TurnVariant {
  return {
    version,
    config,
    classifier: new Classifier(config.classification),
    navigator: new Navigator(config.navigation, config.classification),
    offline: new OfflineResponder(config.responses),
    tenant,
    experiments,
  };
}

/** Slack team and Discord guild ids -> tenant names (tenants.json); an unlisted id is its own tenant. */
export class TenantMap {
  private readonly names = new Map<string, string>();

  constructor(config: EngineConfig['tenants']) {
    for (const [name, t] of Object.entries(config.tenants)) {
      for (const id of t.slack_teams) this.names.set(`slack:${id}`, name);
      for (const id of t.discord_guilds) this.names.set(`discord:${id}`, name);
    }
  }

  name(platform: string, raw: string | undefined): string | undefined {
    if (raw === undefined || raw === '') return undefined;
    return this.names.get(`${platform}:${raw}`) ?? raw;
  }
}

/** No overrides: one variant for everyone (tenants still mapped, for analytics). */
export class StaticConfig implements ConfigSource {
  readonly base: TurnVariant;
  private readonly tenants: TenantMap;
  private readonly byTenant = new Map<string | undefined, TurnVariant>();

  constructor(config: EngineConfig) {
    this.base = compileVariant(config, config.navigation.version, undefined, {});
    this.tenants = new TenantMap(config.tenants);
  }

  /** The tenant name for a platform's workspace id (tenants.json, else the id itself). */
  tenantName(platform: string, raw: string | undefined): string | undefined {
    return this.tenants.name(platform, raw);
  }

  variant(who: Audience): TurnVariant {
    const tenant = this.tenants.name(who.platform, who.tenant);
    if (tenant === undefined) return this.base;
    let v = this.byTenant.get(tenant);
    if (!v) {
      v = { ...this.base, tenant };
      if (this.byTenant.size < 10_000) this.byTenant.set(tenant, v);
    }
    return v;
  }
}

/**
 * The arm of an experiment for a person: a hash of experiment and person, so it is stable
 * across turns, sessions and instances, and independent between experiments.
 */
export function assignArm(experiment: string, person: string, split: Readonly<Record<string, number>>): string {
  let h = 0x811c9dc5;
  const key = `${experiment}\0${person}`;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  // FNV alone leaves similar ids (user1, user2…) close together: a murmur3 finaliser spreads them.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  const arms = Object.entries(split);
  const total = arms.reduce((sum, [, w]) => sum + w, 0);
  let point = ((h >>> 0) / 2 ** 32) * total;
  for (const [arm, weight] of arms) {
    if (point < weight) return arm;
    point -= weight;
  }
  return arms[arms.length - 1]![0];
}
