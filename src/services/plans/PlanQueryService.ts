import type { Principal } from '../../auth/principal.js';
import { AppError } from '../../domain/errors.js';
import type { LedgerEventType, PlanStatus } from '../../domain/enums.js';
import type { LedgerEntryRecord } from '../../domain/ledger.js';
import type { RevenuePlanV1 } from '../../domain/plan.js';
import type { Page } from '../../store/cursor.js';
import type { LedgerFilter, LedgerVerificationResult, PlanLedger } from '../../store/PlanLedger.js';
import type { PlanRepository } from '../../store/PlanRepository.js';
import type { PlanStore } from '../../store/PlanStore.js';
import { LedgerFilterSchema, PageArgsSchema, parseInput, PlanFilterSchema } from './apiInputs.js';

export interface PageRequest {
  first?: number | null;
  after?: string | null;
}

/** Read paths, all scoped to the caller's tenant. Another tenant's ids read as absent. */
export class PlanQueryService {
  constructor(private readonly deps: { store: PlanStore; plans: PlanRepository; ledger: PlanLedger }) {}

  getPlan(principal: Principal, planId: string): Promise<RevenuePlanV1 | null> {
    return this.deps.store.getPlanRepaired(principal.tenantId, planId);
  }

  listPlans(principal: Principal, rawFilter: unknown, page: PageRequest): Promise<Page<RevenuePlanV1>> {
    const filter = parseInput(PlanFilterSchema, rawFilter, 'filter');
    const { first, after } = parseInput(PageArgsSchema, page, 'page');
    return this.deps.plans.listPlans(
      principal.tenantId,
      {
        ...(filter?.accountId ? { accountId: filter.accountId } : {}),
        ...(filter?.status?.length ? { statuses: filter.status as PlanStatus[] } : {}),
        ...(filter?.planType ? { planType: filter.planType } : {}),
      },
      { first, after },
    );
  }

  /** Plans per status (the filter as for listPlans, its status ignored), counted by the store. */
  planStatusCounts(principal: Principal, rawFilter: unknown): Promise<{ status: PlanStatus; count: number }[]> {
    const filter = parseInput(PlanFilterSchema, rawFilter, 'filter');
    return this.deps.plans.countByStatus(principal.tenantId, {
      ...(filter?.accountId ? { accountId: filter.accountId } : {}),
      ...(filter?.planType ? { planType: filter.planType } : {}),
    });
  }

  /** The tenant's ledger feed; oldest first for one plan (its story), newest first otherwise. */
  listLedger(principal: Principal, rawFilter: unknown, page: PageRequest): Promise<Page<LedgerEntryRecord>> {
    const filter = toLedgerFilter(parseInput(LedgerFilterSchema, rawFilter, 'filter'));
    const { first, after } = parseInput(PageArgsSchema, page, 'page');
    return this.deps.ledger.listForTenant(principal.tenantId, filter, { first, after });
  }

  /** One plan's ledger page (Plan.ledger). */
  planLedgerPage(principal: Principal, planId: string, page: PageRequest): Promise<Page<LedgerEntryRecord>> {
    const { first, after } = parseInput(PageArgsSchema, page, 'page');
    return this.deps.ledger.listByPlan(principal.tenantId, planId, { first, after });
  }

  /** First pages of many plans' ledgers in one query (for the per-request loader). */
  firstLedgerPages(principal: Principal, planIds: readonly string[], first: number): Promise<Map<string, Page<LedgerEntryRecord>>> {
    return this.deps.ledger.listByPlans(principal.tenantId, [...planIds], first);
  }

  ledgerStats(principal: Principal, rawFilter: unknown): Promise<{ event_type: LedgerEventType; day: string; count: number }[]> {
    const filter = toLedgerFilter(parseInput(LedgerFilterSchema, rawFilter, 'filter'));
    return this.deps.ledger.stats(principal.tenantId, filter);
  }

  /** Walks the plan's chain; also compares with the plan's own event count, so a cut-off tail shows. */
  async verifyLedger(principal: Principal, planId: string): Promise<LedgerVerificationResult> {
    const plan = await this.deps.plans.getPlan(principal.tenantId, planId);
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
