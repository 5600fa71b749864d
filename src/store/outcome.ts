/** One part's result of a call over many (a batch): its value, or the error that part alone met. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };
