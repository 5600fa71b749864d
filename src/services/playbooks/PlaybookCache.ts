import { PLAN_TYPES, type PlanType } from '../../domain/enums.js';
import { getPlanTypeConfig, type PlanTypeConfig } from '../../domain/planTypeConfig.js';
import type { PlanTypeConfigStore } from '../../store/index.js';

/** How long a cached playbook is trusted before its head (the version stamp) is read again. */
export const PLAYBOOK_STAMP_TTL_MS = 500;

interface Entry {
  config: PlanTypeConfig;
  checkedAt: number;
  /** The refresh under way, shared by every caller that finds the entry stale. */
  refreshing: Promise<PlanTypeConfig> | null;
}

/**
 * The tenant's published playbook per plan type, in process memory. A caller gets the cached
 * config (a Map lookup) while it is younger than the TTL; after that the next caller reads the
 * head (one point read) and, only when its published version moved, that version (a second
 * point read). So a publish on any instance is in force everywhere within TTL + one read, and
 * proposePlan pays one point read per tenant per TTL at most (docs/playbooks.md, "Cache").
 */
export class PlaybookCache {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly ttlMs: number;

  constructor(
    private readonly store: Pick<PlanTypeConfigStore, 'head' | 'getVersion'>,
    options: { ttlMs?: number; now?: () => number } = {},
  ) {
    this.ttlMs = options.ttlMs ?? PLAYBOOK_STAMP_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  /** The config in force for the tenant and plan type (the built-in one for an unknown type is null). */
  async current(tenantId: string, planType: string): Promise<PlanTypeConfig | null> {
    if (!(PLAN_TYPES as readonly string[]).includes(planType)) return null;
    const key = `${tenantId}\u0000${planType}`;
    const entry = this.entries.get(key);
    if (entry && this.now() - entry.checkedAt < this.ttlMs) return entry.config;
    if (entry?.refreshing) return entry.refreshing;
    const refreshing = this.load(tenantId, planType as PlanType, entry?.config ?? null);
    const pending: Entry = { config: entry?.config ?? getPlanTypeConfig(planType)!, checkedAt: entry?.checkedAt ?? 0, refreshing };
    this.entries.set(key, pending);
    try {
      const config = await refreshing;
      this.entries.set(key, { config, checkedAt: this.now(), refreshing: null });
      return config;
    } catch (e) {
      if (this.entries.get(key) === pending) pending.refreshing = null;
      throw e;
    }
  }

  /** Forget a tenant's playbook (this instance just changed it). */
  invalidate(tenantId: string, planType: string): void {
    this.entries.delete(`${tenantId}\u0000${planType}`);
  }

  private async load(tenantId: string, planType: PlanType, cached: PlanTypeConfig | null): Promise<PlanTypeConfig> {
    const { published_version } = await this.store.head(tenantId, planType);
    if (cached !== null && cached.version === published_version) return cached;
    if (published_version === 0) return getPlanTypeConfig(planType)!;
    const stored = await this.store.getVersion(tenantId, planType, published_version, true);
    // The head names a version only after its document exists (drafts are written first).
    if (!stored) throw new Error(`playbook head names version ${published_version}, which is not stored`);
    return stored.config;
  }
}
