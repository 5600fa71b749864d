// Runs over the book of business (docs/runs.md): the run's and its items' vocabularies, limits
// and the pure rules about them. No I/O here.
import { idempotentPlanId } from './idempotentPlanId.js';

export const PROPOSAL_RUN_STATUSES = ['OPEN', 'RUNNING', 'COMPLETED', 'CANCELLED'] as const;
export type ProposalRunStatus = (typeof PROPOSAL_RUN_STATUSES)[number];

export const PROPOSAL_RUN_ITEM_OUTCOMES = [
  'PENDING',
  'CREATED',
  'WOULD_CREATE',
  'SKIPPED_OPEN_PLAN',
  'SKIPPED_DUPLICATE',
  'REJECTED',
  'FAILED',
] as const;
export type ProposalRunItemOutcome = (typeof PROPOSAL_RUN_ITEM_OUTCOMES)[number];
export type SettledOutcome = Exclude<ProposalRunItemOutcome, 'PENDING'>;

/** Items one addProposalRunItems call may carry. */
export const MAX_RUN_ITEMS_PER_CALL = 500;
/** Items one run may hold. */
export const MAX_RUN_ITEMS = 100_000;

export interface ProposalRunCounts {
  total: number;
  pending: number;
  created: number;
  wouldCreate: number;
  skippedOpenPlan: number;
  skippedDuplicate: number;
  rejected: number;
  failed: number;
}

const COUNT_FIELD: Readonly<Record<ProposalRunItemOutcome, keyof Omit<ProposalRunCounts, 'total'>>> = {
  PENDING: 'pending',
  CREATED: 'created',
  WOULD_CREATE: 'wouldCreate',
  SKIPPED_OPEN_PLAN: 'skippedOpenPlan',
  SKIPPED_DUPLICATE: 'skippedDuplicate',
  REJECTED: 'rejected',
  FAILED: 'failed',
};

/** Counts from the number of items per outcome: total is their sum, so they always add up. */
export function countsFromOutcomes(perOutcome: ReadonlyMap<ProposalRunItemOutcome, number>): ProposalRunCounts {
  const counts: ProposalRunCounts = { total: 0, pending: 0, created: 0, wouldCreate: 0, skippedOpenPlan: 0, skippedDuplicate: 0, rejected: 0, failed: 0 };
  for (const [outcome, n] of perOutcome) {
    counts[COUNT_FIELD[outcome]] += n;
    counts.total += n;
  }
  return counts;
}

/** Which status changes a caller may ask for; the worker moves RUNNING to COMPLETED. */
export const RUN_TRANSITIONS: Readonly<Record<'start' | 'cancel', readonly ProposalRunStatus[]>> = {
  start: ['OPEN'],
  cancel: ['OPEN', 'RUNNING'],
};

/** The idempotency key of a run's item: one plan at most per (run, item), whatever is retried. */
export const runItemIdempotencyKey = (runId: string, index: number): string => `run:${runId}:${index}`;

/** The id of the plan a real run's item makes (or made): derived from its idempotency key. */
export const runItemPlanId = (tenantId: string, runId: string, index: number): string => idempotentPlanId(tenantId, runItemIdempotencyKey(runId, index));
