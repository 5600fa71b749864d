import { MongoBulkWriteError } from 'mongodb';
import { AppError, isAppError } from '../domain/errors.js';

// Recognizing server errors by what they mean, for MongoDB and FerretDB alike, and keeping
// driver errors from reaching callers. FerretDB v1 (SQLite) reports a unique-index violation
// as E11000 on insert (without naming the index), but as code 1 ("UNIQUE constraint failed:
// index '<table>_<index name>'") on update and findAndModify.

interface ServerErrorLike {
  code?: unknown;
  message?: unknown;
  keyPattern?: unknown;
  errmsg?: unknown;
}

const asServerError = (e: unknown): ServerErrorLike | null =>
  typeof e === 'object' && e !== null ? (e as ServerErrorLike) : null;

const messageOf = (e: ServerErrorLike): string =>
  [e.message, e.errmsg].filter((m): m is string => typeof m === 'string').join(' ');

/** True when the write failed because a unique index already holds the key. */
export function isDuplicateKeyError(e: unknown): boolean {
  const err = asServerError(e);
  if (!err) return false;
  if (err.code === 11000 || err.code === 11001) return true;
  const message = messageOf(err);
  return /E11000 duplicate key/.test(message) || /UNIQUE constraint failed/.test(message);
}

/** A short, driver-free description of a failure, for logs (never for clients). */
export function describeStoreError(e: unknown): Record<string, unknown> {
  const err = asServerError(e);
  if (!err) return { error: String(e) };
  return {
    name: (e as { name?: unknown }).name,
    code: err.code,
    message: messageOf(err).slice(0, 500),
  };
}

/** Where the store reports what it hides from callers (a pino logger fits). */
export interface StoreLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const consoleStoreLogger: StoreLogger = {
  warn: (obj, msg) => console.warn(msg, obj),
  error: (obj, msg) => console.error(msg, obj),
};

/**
 * Runs a store operation so that only AppErrors leave it: anything else (driver, network,
 * server) is logged with its details and becomes INTERNAL_SERVER_ERROR without driver text.
 */
export async function withStoreErrors<T>(logger: StoreLogger, op: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isAppError(e)) throw e;
    logger.error({ op, err: describeStoreError(e) }, 'store operation failed');
    throw Object.assign(new AppError('INTERNAL_SERVER_ERROR', `store operation ${op} failed`), { cause: e });
  }
}

/** One document's failure in a bulk write: its position in the batch and the server's code and message. */
export interface DocumentWriteError {
  index: number;
  code: unknown;
  errmsg: string | undefined;
}

/**
 * What a failed insertMany tells about each of `attempted` documents, or null when the command
 * failed as a whole before reaching the server (no document's outcome is known). The driver
 * also reports a command that failed as a whole (the store shutting down, a server error) as a
 * bulk error with no write errors, so the documents without an error of their own count as
 * stored (`othersStored`) only when the server's count says all of them are.
 */
export function bulkWriteFailure(e: unknown, attempted: number): { errors: DocumentWriteError[]; othersStored: boolean } | null {
  if (!(e instanceof MongoBulkWriteError)) return null;
  const errors = (Array.isArray(e.writeErrors) ? e.writeErrors : [e.writeErrors]).map((we) => ({ index: we.index, code: we.code, errmsg: we.errmsg }));
  return { errors, othersStored: !e.writeConcernError && e.insertedCount === attempted - errors.length };
}
