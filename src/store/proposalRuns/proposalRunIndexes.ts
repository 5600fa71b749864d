import type { IndexDirection } from 'mongodb';

// Collections and indexes of proposal runs (docs/runs.md). Every tenant-facing query starts with
// tenant_id; the worker's work list (RUNNING runs of any tenant) has its own index.

export const PROPOSAL_RUN_COLLECTIONS = {
  runs: 'proposal_runs',
  items: 'proposal_run_items',
} as const;

interface IndexDefinition {
  name: string;
  key: Record<string, IndexDirection>;
  unique?: boolean;
}

export const PROPOSAL_RUN_INDEXES: readonly (readonly [string, IndexDefinition])[] = [
  /** proposalRuns: the tenant's runs, newest first. */
  [PROPOSAL_RUN_COLLECTIONS.runs, { name: 'proposal_runs_tenant_created', key: { tenant_id: 1, created_at: -1, _id: -1 } }],
  /** The worker's work list: RUNNING runs, oldest start first, any tenant. */
  [PROPOSAL_RUN_COLLECTIONS.runs, { name: 'proposal_runs_status_started', key: { status: 1, started_at: 1 } }],
  /** A run's items in order (items without an outcome filter); one item per position. */
  [PROPOSAL_RUN_COLLECTIONS.items, { name: 'proposal_run_items_run_index', key: { tenant_id: 1, run_id: 1, index: 1 }, unique: true }],
  /** Counts per outcome (grouped from the index) and items filtered by outcome (the worker's PENDING list). */
  [PROPOSAL_RUN_COLLECTIONS.items, { name: 'proposal_run_items_run_outcome_index', key: { tenant_id: 1, run_id: 1, outcome: 1, index: 1 } }],
  /** The first item of an account in a run: later ones are duplicates. */
  [PROPOSAL_RUN_COLLECTIONS.items, { name: 'proposal_run_items_run_account', key: { tenant_id: 1, run_id: 1, account_id: 1, plan_type: 1, index: 1 } }],
];
