// Shapes shared by the bench's document builders, the load jobs and the read suite. A leaf
// module (it imports nothing of the bench), so that bench/lib has no import circle.

/** A plan document and its PLAN_CREATED ledger entry as the service stores them. */
export interface WriteTemplate {
  plan: Record<string, unknown>;
  entry: Record<string, unknown>;
}

/** What the raw driver sends for one read (EJSON, so that dates survive the trip to the worker). */
export interface RawRead {
  collection: 'plans' | 'plan_ledger' | 'plan_counters';
  find?: string;
  sort?: Record<string, 1 | -1>;
  limit?: number;
  aggregate?: string;
}
