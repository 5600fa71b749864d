import DataLoader from 'dataloader';
import type { Principal } from '../auth/principal.js';
import type { LedgerEntryRecord } from '../domain/ledger.js';
import type { Page } from '../domain/page.js';
import { AppError } from '../domain/errors.js';
import type { PlanView, RevenuePlanV1 } from '../domain/plan.js';
import type { AppServices } from '../services/AppServices.js';
import type { PlaybookVersionView } from '../services/playbooks/PlaybookService.js';
import type { WebhookDeliveryRecord, WebhookEndpointRecord } from '../store/index.js';

/**
 * Per-request batching: a page of plans with their ledgers is one ledger query, not N; so are
 * the objects of one `nodes(ids:)` call, one query per type. Resolvers check the role before
 * using a loader; a loader never runs unauthenticated.
 */
export interface RequestLoaders {
  /** First ledger page of a plan, batched per page size. */
  ledgerFirstPage(first: number): DataLoader<string, Page<LedgerEntryRecord>>;
  /** A plan by planId (null when absent), as plan(planId) reads it. */
  plan: DataLoader<string, RevenuePlanV1 | null>;
  /**
   * The plan with its steps: itself when it has them, else (a list's head) read by id, one
   * query for the page. Lists read whole plans when the selection asks for steps, so this is
   * the guarantee, not the path: no selection gets a plan without its steps.
   */
  wholePlan(plan: PlanView): Promise<RevenuePlanV1>;
  /** A ledger entry by entryId (null when absent). */
  ledgerEntry: DataLoader<string, LedgerEntryRecord | null>;
  /** A playbook version by `<planType>:<version>` (null when absent). */
  playbookVersion: DataLoader<string, PlaybookVersionView | null>;
  /** A webhook endpoint by endpointId (null when absent). */
  webhookEndpoint: DataLoader<string, WebhookEndpointRecord | null>;
  /** A webhook delivery by deliveryId (null when absent). */
  webhookDelivery: DataLoader<string, WebhookDeliveryRecord | null>;
}

export function createRequestLoaders(services: AppServices, principal: Principal | null): RequestLoaders {
  const caller = () => principal as Principal;
  const bySize = new Map<number, DataLoader<string, Page<LedgerEntryRecord>>>();
  const plan = new DataLoader<string, RevenuePlanV1 | null>((planIds) => services.queries.getPlans(caller(), planIds));
  return {
    ledgerFirstPage(first) {
      let loader = bySize.get(first);
      if (!loader) {
        loader = new DataLoader(async (planIds) => {
          const pages = await services.queries.firstLedgerPages(caller(), planIds, first);
          return planIds.map((id) => pages.get(id) ?? { items: [], cursors: [], hasNextPage: false, endCursor: null });
        });
        bySize.set(first, loader);
      }
      return loader;
    },
    plan,
    async wholePlan(p) {
      if (p.steps) return p;
      const whole = await plan.load(p.plan_id);
      // Plans are never deleted: a listed plan that is gone is the store's fault, not an empty plan.
      if (!whole) throw new AppError('INTERNAL_SERVER_ERROR', `listed plan ${p.plan_id} could not be read`);
      return whole;
    },
    ledgerEntry: new DataLoader((entryIds) => services.queries.getLedgerEntries(caller(), entryIds)),
    playbookVersion: new DataLoader((ids) => services.playbooks.versionsByLocalIds(caller(), ids)),
    webhookEndpoint: new DataLoader((ids) => services.webhooks.endpointsByIds(caller(), ids)),
    webhookDelivery: new DataLoader((ids) => services.webhooks.deliveriesByIds(caller(), ids)),
  };
}
