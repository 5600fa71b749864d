import type { Principal } from '../../auth/principal.js';
import { AppError } from '../../domain/errors.js';
import type { LedgerEventType, PlanStatus } from '../../domain/enums.js';
import type { LedgerEntryRecord } from '../../domain/ledger.js';
import type { PlanView, RevenuePlanV1 } from '../../domain/plan.js';
import type { StatusCount } from '../../domain/planTally.js';
import type { Page, PageArgs } from '../../domain/page.js';
import { overdueStepCount } from '../../domain/stepWorkload.js';
import type { LedgerFilter, LedgerVerificationResult, Store } from '../../store/index.js';
import type { PlanExpiry } from '../lifecycle/PlanExpiry.js';
import type { TenantWorkLimiter } from '../tenantWorkLimiter.js';
import { LedgerFilterSchema, PageArgsSchema, parseInput, PlanFilterSchema } from './apiInputs.js';

export const OPEN_PLAN_STATUSES: readonly PlanStatus[] = ['DRAFT', 'APPROVED', 'ACTIVE', 'PAUSED'];
export const OPEN_PLANS_LIMIT = 20;

/** Read paths, all scoped to the caller's tenant. Another tenant's ids read as absent. */
export class PlanQueryService {
  private readonly clock: () => Date;

  constructor(private readonly deps: { store: Store; expiry: PlanExpiry; clock?: () => Date; limiter?: TenantWorkLimiter }) {
    this.clock = deps.clock ?? (() => new Date());
  }

  /** Work over all of a tenant's data: through the limiter when there is one (identical concurrent calls run once). */
  private bounded<T>(principal: Principal, key: string, work: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    return this.deps.limiter ? this.deps.limiter.run(principal.tenantId, key, work, signal) : work();
  }

  /** The plan as it is now (expired first when it is past its time), or null. */
  async getPlan(principal: Principal, planId: string): Promise<RevenuePlanV1 | null> {
    const plan = await this.deps.store.getPlanRepaired(principal.tenantId, planId);
    return plan && this.deps.expiry.expireIfDue(plan, { trigger: 'expired_on_read', touchedBy: principal.sub });
  }

  /**
   * Plans by id as they are now, aligned with planIds (null where absent or another tenant's):
   * one query for the batch, expired on read like a list; an id the batch misses is read as
   * getPlan reads it, so a plan a crash left without its document is restored, not absent.
   */
  async getPlans(principal: Principal, planIds: readonly string[]): Promise<(RevenuePlanV1 | null)[]> {
    const stored = await this.deps.store.plans.getPlans(principal.tenantId, planIds);
    const found = stored.filter((p): p is RevenuePlanV1 => p !== null);
    const current = new Map((await this.deps.expiry.expireEachIfDue(found, { trigger: 'expired_on_read', touchedBy: principal.sub })).map((p) => [p.plan_id, p]));
    return Promise.all(planIds.map((id) => current.get(id) ?? this.getPlan(principal, id)));
  }

  /** Ledger entries by entry id, aligned with entryIds (null where absent or another tenant's). */
  getLedgerEntries(principal: Principal, entryIds: readonly string[]): Promise<(LedgerEntryRecord | null)[]> {
    return this.deps.store.ledger.getByIds(principal.tenantId, entryIds);
  }

  /**
   * A page of plans as they are now, whole or (withSteps false) without their steps (PlanHead:
   * docs/store.md, "Plan lists"): a plan past its time is expired before it is shown, and left
   * out when the filter's statuses (or overdue: true) no longer include it (the page may then be
   * short; the cursors and hasNextPage still describe the stored order).
   */
  async listPlans(principal: Principal, rawFilter: unknown, page: PageArgs, { withSteps = true }: { withSteps?: boolean } = {}): Promise<Page<PlanView>> {
    const filter = parseInput(PlanFilterSchema, rawFilter, 'filter');
    const { first, after } = parseInput(PageArgsSchema, page, 'page');
    const statuses = filter?.status?.length ? (filter.status as PlanStatus[]) : null;
    const now = this.clock();
    const listFilter = {
      ...(filter?.accountId ? { accountId: filter.accountId } : {}),
      ...(statuses ? { statuses } : {}),
      ...(filter?.planType ? { planType: filter.planType } : {}),
      ...(filter?.overdue ? { overdueAt: now } : {}),
      ...(filter?.assignee ? { assignee: filter.assignee } : {}),
    };
    const plans = this.deps.store.plans;
    const stored: Page<PlanView> = withSteps
      ? await plans.listPlans(principal.tenantId, listFilter, { first, after })
      : await plans.listPlanHeads(principal.tenantId, listFilter, { first, after });
    const current = await this.deps.expiry.expireEachIfDue(stored.items, { trigger: 'expired_on_read', touchedBy: principal.sub });
    if (current.every((p, i) => p === stored.items[i])) return stored;
    // Only an expired plan (whole, with its steps) can have left the filter: it has no overdue
    // work either, and its steps are nobody's work.
    const keep = current.map(
      (p, i) =>
        p === stored.items[i] ||
        ((!statuses || statuses.includes(p.plan_status)) && (!filter?.overdue || (p.steps !== undefined && overdueStepCount(p, now) > 0)) && (!filter?.assignee || p.plan_status !== 'EXPIRED')),
    );
    return { ...stored, items: current.filter((_p, i) => keep[i]), cursors: stored.cursors.filter((_c, i) => keep[i]) };
  }

  /**
   * The account's other plans of the same type that are still open, newest first (at most
   * OPEN_PLANS_LIMIT): what a client needs to see a duplicate coming.
   */
  async openPlansLike(principal: Principal, plan: Pick<RevenuePlanV1, 'plan_id' | 'account_id' | 'plan_type'>): Promise<RevenuePlanV1[]> {
    const page = await this.deps.store.plans.listPlans(
      principal.tenantId,
      { accountId: plan.account_id, planType: plan.plan_type, statuses: OPEN_PLAN_STATUSES },
      { first: OPEN_PLANS_LIMIT + 1 },
    );
    const current = await this.deps.expiry.expireEachIfDue(page.items, { trigger: 'expired_on_read', touchedBy: principal.sub });
    return current
      .filter((p) => p.plan_id !== plan.plan_id && OPEN_PLAN_STATUSES.includes(p.plan_status))
      .sort((a, b) => b.created_at.getTime() - a.created_at.getTime() || (a.plan_id < b.plan_id ? 1 : -1))
      .slice(0, OPEN_PLANS_LIMIT);
  }

  /**
   * Plans, open steps and overdue steps per status (the filter's account and plan type; its
   * status, overdue and assignee ignored), from the store's kept counts.
   */
  planStatusCounts(principal: Principal, rawFilter: unknown, signal?: AbortSignal): Promise<StatusCount[]> {
    const filter = parseInput(PlanFilterSchema, rawFilter, 'filter');
    const scope = { ...(filter?.accountId ? { accountId: filter.accountId } : {}), ...(filter?.planType ? { planType: filter.planType } : {}) };
    return this.bounded(principal, `planStatusCounts/${JSON.stringify(scope)}`, () => this.deps.store.counters.statusCounts(principal.tenantId, scope, this.clock()), signal);
  }

  /** The tenant's ledger feed; oldest first for one plan (its story), newest first otherwise. */
  listLedger(principal: Principal, rawFilter: unknown, page: PageArgs): Promise<Page<LedgerEntryRecord>> {
    const filter = toLedgerFilter(parseInput(LedgerFilterSchema, rawFilter, 'filter'));
    const { first, after } = parseInput(PageArgsSchema, page, 'page');
    return this.deps.store.ledger.listForTenant(principal.tenantId, filter, { first, after });
  }

  /** One plan's ledger page (Plan.ledger). */
  planLedgerPage(principal: Principal, planId: string, page: PageArgs): Promise<Page<LedgerEntryRecord>> {
    const { first, after } = parseInput(PageArgsSchema, page, 'page');
    return this.deps.store.ledger.listByPlan(principal.tenantId, planId, { first, after });
  }

  /** First pages of many plans' ledgers in one query (for the per-request loader). */
  firstLedgerPages(principal: Principal, planIds: readonly string[], first: number): Promise<Map<string, Page<LedgerEntryRecord>>> {
    return this.deps.store.ledger.listByPlans(principal.tenantId, [...planIds], first);
  }

  ledgerStats(principal: Principal, rawFilter: unknown, signal?: AbortSignal): Promise<{ event_type: LedgerEventType; day: string; count: number }[]> {
    const filter = toLedgerFilter(parseInput(LedgerFilterSchema, rawFilter, 'filter'));
    return this.bounded(principal, `ledgerStats/${JSON.stringify(filter)}`, () => this.deps.store.ledger.stats(principal.tenantId, filter), signal);
  }

  /**
   * Walks the plan's chain; also compares with the plan's own event count, so a cut-off tail shows.
   * The plan is read as plan(planId) reads it (repaired, restored, expired), so a plan a crash left
   * without its document is verified, not NOT_FOUND.
   */
  async verifyLedger(principal: Principal, planId: string): Promise<LedgerVerificationResult> {
    const plan = await this.getPlan(principal, planId);
    if (!plan) throw new AppError('NOT_FOUND', 'no such plan');
    return this.deps.store.verifyPlanLedger(principal.tenantId, planId);
  }
}

function toLedgerFilter(filter: { planId?: string | null; accountId?: string | null; eventTypes?: LedgerEventType[] | null; since?: Date | null; until?: Date | null } | null | undefined): LedgerFilter {
  return {
    ...(filter?.planId ? { planId: filter.planId } : {}),
    ...(filter?.accountId ? { accountId: filter.accountId } : {}),
    ...(filter?.eventTypes?.length ? { eventTypes: filter.eventTypes } : {}),
    ...(filter?.since ? { since: filter.since } : {}),
    ...(filter?.until ? { until: filter.until } : {}),
  };
}
