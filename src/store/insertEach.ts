import type { Collection, Document, OptionalUnlessRequiredId } from 'mongodb';
import { bulkWriteFailure, isDuplicateKeyError } from './mongoErrors.js';

// One unordered insertMany, and what became of each document: a bulk write fails as a whole on
// the first duplicate key, but the store has written the others, and each caller must learn its
// own document's outcome.

/** What became of one document of an insertEach. */
export type InsertOutcome = { ok: true } | { ok: false; duplicate: boolean; error: unknown };

/**
 * Inserts `docs` in one unordered insertMany; one outcome per document, in order. Throws when
 * the command failed as a whole (no document's outcome is known: the caller tries them again).
 */
export async function insertEach<T extends Document>(collection: Collection<T>, docs: readonly OptionalUnlessRequiredId<T>[]): Promise<InsertOutcome[]> {
  if (docs.length === 0) return [];
  try {
    await collection.insertMany([...docs], { ordered: false });
    return docs.map(() => ({ ok: true }));
  } catch (e) {
    const failure = bulkWriteFailure(e, docs.length);
    if (!failure) throw e;
    const failed = new Map(failure.errors.map((we) => [we.index, we]));
    return docs.map((_, i): InsertOutcome => {
      const writeError = failed.get(i);
      if (writeError) {
        const error = Object.assign(new Error(writeError.errmsg ?? 'write error'), { code: writeError.code, errmsg: writeError.errmsg });
        return { ok: false, duplicate: isDuplicateKeyError(error), error };
      }
      return failure.othersStored ? { ok: true } : { ok: false, duplicate: false, error: e };
    });
  }
}

/**
 * Inserts `docs` in one unordered insertMany, where a document whose `_id` is stored already is
 * left as it is (an idempotent write repeated). Throws the command's error for anything else.
 */
export async function insertAllowingDuplicates<T extends Document>(collection: Collection<T>, docs: readonly OptionalUnlessRequiredId<T>[]): Promise<void> {
  if (docs.length === 0) return;
  try {
    await collection.insertMany([...docs], { ordered: false });
  } catch (e) {
    // Harmless only when every document is stored or was there already.
    const failure = bulkWriteFailure(e, docs.length);
    if (!failure || failure.errors.length === 0 || !failure.othersStored || !failure.errors.every(isDuplicateKeyError)) throw e;
  }
}
