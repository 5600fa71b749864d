// The kept counts' collections and their indexes (docs/store.md, "Kept counts"); the plans'
// tally_mark indexes are with the other plan indexes (indexes.ts).

export const PLAN_COUNTERS_COLLECTION = 'plan_counters';
export const PLAN_TALLIES_COLLECTION = 'plan_tallies';
export const PLAN_STEP_DUES_COLLECTION = 'plan_step_dues';

export const PLAN_COUNTER_INDEXES: readonly [string, { key: Record<string, 1 | -1>; name: string }][] = [
  // Overdue steps due earlier today: a range of one day.
  [PLAN_STEP_DUES_COLLECTION, { key: { tenant_id: 1, due_at: 1 }, name: 'step_dues_tenant_due' }],
  [PLAN_STEP_DUES_COLLECTION, { key: { tenant_id: 1, plan_id: 1 }, name: 'step_dues_tenant_plan' }],
  // The repair's walk of a tenant's tallies.
  [PLAN_TALLIES_COLLECTION, { key: { tenant_id: 1, _id: 1 }, name: 'tallies_tenant' }],
];
