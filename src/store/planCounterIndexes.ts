import { TALLY_MARK } from './tallyMark.js';

// The kept counts' collections and indexes (docs/store.md, "Kept counts").

export const PLAN_COUNTERS_COLLECTION = 'plan_counters';
export const PLAN_TALLIES_COLLECTION = 'plan_tallies';
export const PLAN_STEP_DUES_COLLECTION = 'plan_step_dues';

export const PLAN_COUNTER_INDEXES: readonly [string, { key: Record<string, 1 | -1>; name: string }][] = [
  // The tally job's work list (any tenant), and a read's correction (one tenant).
  ['plans', { key: { [TALLY_MARK]: 1 }, name: 'plans_tally_mark' }],
  ['plans', { key: { tenant_id: 1, [TALLY_MARK]: 1 }, name: 'plans_tenant_tally_mark' }],
  // Overdue steps due earlier today: a range of one day.
  [PLAN_STEP_DUES_COLLECTION, { key: { tenant_id: 1, due_at: 1 }, name: 'step_dues_tenant_due' }],
  [PLAN_STEP_DUES_COLLECTION, { key: { tenant_id: 1, plan_id: 1 }, name: 'step_dues_tenant_plan' }],
];
