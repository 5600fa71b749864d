import type { Page } from '../store/cursor.js';

/** A store page as a Relay connection. */
export function toConnection<T>(page: Page<T>): { edges: { cursor: string; node: T }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } {
  return {
    edges: page.items.map((node, i) => ({ cursor: page.cursors[i] as string, node })),
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
  };
}
