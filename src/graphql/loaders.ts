import DataLoader from 'dataloader';
import type { Principal } from '../auth/principal.js';
import type { LedgerEntryRecord } from '../domain/ledger.js';
import type { Page } from '../domain/page.js';
import type { RevenuePlanV1 } from '../domain/plan.js';
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
    plan: new DataLoader((planIds) => services.queries.getPlans(caller(), planIds)),
    ledgerEntry: new DataLoader((entryIds) => services.queries.getLedgerEntries(caller(), entryIds)),
    playbookVersion: new DataLoader((ids) => services.playbooks.versionsByLocalIds(caller(), ids)),
    webhookEndpoint: new DataLoader((ids) => services.webhooks.endpointsByIds(caller(), ids)),
    webhookDelivery: new DataLoader((ids) => services.webhooks.deliveriesByIds(caller(), ids)),
  };
}
