import type { Page, PageArgs } from '../domain/page.js';
import type { PageInfo } from '../generated/graphql.js';

/** Any of the schema's connections, its nodes as the resolvers hold them (mapped models). */
export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
}

/**
 * A store page as a Relay connection (cursor-connections spec, forward paging). Paging forward,
 * the spec lets hasPreviousPage be true only when rows precede `after`, and false when that
 * cannot be known cheaply. Here it is true exactly when `after` was given: a cursor always names
 * a row that was in the list, and that row still comes before the page (ledger entries never
 * change; a plan that changes moves to the front of the updatedAt order). It can be wrong only
 * when the cursor's row is not in this list: a status-filtered plan list whose cursor's plan has
 * since left the filter, or a cursor taken from the same list under another filter. Knowing
 * more would cost a second query per page (a limit-1 read before the cursor).
 */
export function toConnection<T>(page: Page<T>, args: Pick<PageArgs, 'after'>): Connection<T> {
  return {
    edges: page.items.map((node, i) => ({ cursor: page.cursors[i] as string, node })),
    pageInfo: {
      hasNextPage: page.hasNextPage,
      endCursor: page.endCursor,
      hasPreviousPage: args.after != null,
      startCursor: page.cursors[0] ?? null,
    },
  };
}
