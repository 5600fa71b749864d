import type { Document, Filter } from 'mongodb';
import { z } from 'zod';
import { AppError } from '../domain/errors.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type Page } from '../domain/page.js';

// Opaque page cursors: base64url of a small JSON position (a keyset, never an offset, so a
// page boundary stays put while new rows arrive). Each list reads them with its own schema,
// so a cursor from one list is BAD_USER_INPUT in another, as is anything tampered with.

/** 1..MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE when absent. */
export function clampPageSize(first: number | null | undefined): number {
  if (first === undefined || first === null || !Number.isFinite(first)) return DEFAULT_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(first)));
}

export function encodeCursor(position: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

const MAX_CURSOR_LENGTH = 1024;

/** The position in `cursor`, or BAD_USER_INPUT when it is not one `schema` accepts. */
export function decodeCursor<S extends z.ZodType>(cursor: string, schema: S): z.infer<S> {
  const invalid = () => new AppError('BAD_USER_INPUT', 'invalid cursor');
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw invalid();
  return parsed.data;
}

/** Position after a row ordered by (time, id): the keyset of plans and of the tenant feed. */
export const TimeIdCursorSchema = <K extends string>(kind: K) =>
  z.strictObject({ k: z.literal(kind), t: z.number().int().min(0).max(8.64e15), id: z.string().min(1).max(256) });

/**
 * `base` narrowed to the rows after a (time, id) position in a list sorted by `timeField` then
 * `_id`, both descending: the query side of TimeIdCursorSchema. `base` alone without a position.
 * The `$lte` bound is implied by the `$or`; it is there so that the embedded store (and any
 * planner) reads the index from the position on instead of from the top of the tenant's range.
 */
export function afterTimeId<T extends Document>(base: Filter<T>, timeField: string, after: { t: number; id: string } | null): Filter<T> {
  if (!after) return base;
  const at = new Date(after.t);
  return {
    $and: [base, { [timeField]: { $lte: at } }, { $or: [{ [timeField]: { $lt: at } }, { [timeField]: at, _id: { $lt: after.id } }] }],
  } as Filter<T>;
}

/** Position after a ledger entry in one plan's chain. */
export const SeqCursorSchema = z.strictObject({ k: z.literal('seq'), s: z.number().int().min(0) });

/**
 * Builds a page from rows fetched with limit first + 1: the extra row only says that more
 * follow, and is dropped.
 */
export function toPage<T>(rows: T[], first: number, positionOf: (row: T) => Record<string, unknown>): Page<T> {
  const items = rows.slice(0, first);
  const cursors = items.map((row) => encodeCursor(positionOf(row)));
  return { items, hasNextPage: rows.length > first, endCursor: cursors.at(-1) ?? null, cursors };
}
