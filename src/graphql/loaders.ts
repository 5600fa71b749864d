import DataLoader from 'dataloader';
import type { Principal } from '../auth/principal.js';
import type { LedgerEntryRecord } from '../domain/ledger.js';
import type { Page } from '../domain/page.js';
import type { AppServices } from '../services/AppServices.js';

/** Per-request batching: a page of plans with their ledgers is one ledger query, not N. */
export interface RequestLoaders {
  /** First ledger page of a plan, batched per page size. */
  ledgerFirstPage(first: number): DataLoader<string, Page<LedgerEntryRecord>>;
}

export function createRequestLoaders(services: AppServices, principal: Principal | null): RequestLoaders {
  const bySize = new Map<number, DataLoader<string, Page<LedgerEntryRecord>>>();
  return {
    ledgerFirstPage(first) {
      let loader = bySize.get(first);
      if (!loader) {
        loader = new DataLoader(async (planIds) => {
          // Resolvers check the role before using a loader; a loader never runs unauthenticated.
          const pages = await services.queries.firstLedgerPages(principal as Principal, planIds, first);
          return planIds.map((id) => pages.get(id) ?? { items: [], cursors: [], hasNextPage: false, endCursor: null });
        });
        bySize.set(first, loader);
      }
      return loader;
    },
  };
}
