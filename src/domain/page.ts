// Pages of a list, as every layer speaks of them: the store reads them, services and the API pass
// them on. How a page's position is encoded is the store's business (store/cursor.ts).

/** Page size bounds: the API validates them and the store enforces them whatever the caller sent. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** A page of a list; cursors[i] is the position of items[i]. */
export interface Page<T> {
  items: T[];
  hasNextPage: boolean;
  endCursor: string | null;
  cursors: string[];
}
