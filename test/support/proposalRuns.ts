// GraphQL documents and helpers for proposal-run tests (API, reliability, CLI).
import type { ProposalRunCounts } from '../../src/domain/proposalRuns.js';

export const RUN_FIELDS = `runId status dryRun createdBy createdAt startedAt finishedAt
  counts { total pending created wouldCreate skippedOpenPlan skippedDuplicate rejected failed }`;

export const CREATE_RUN = `mutation($dryRun: Boolean!) { createProposalRun(dryRun: $dryRun) { ${RUN_FIELDS} } }`;
export const ADD_ITEMS = `mutation($runId: ID!, $items: [ProposePlanInput!]!) { addProposalRunItems(runId: $runId, items: $items) { ${RUN_FIELDS} } }`;
export const START_RUN = `mutation($runId: ID!) { startProposalRun(runId: $runId) { ${RUN_FIELDS} } }`;
export const CANCEL_RUN = `mutation($runId: ID!) { cancelProposalRun(runId: $runId) { ${RUN_FIELDS} } }`;
export const GET_RUN = `query($runId: ID!) { proposalRun(runId: $runId) { ${RUN_FIELDS} } }`;
export const RUN_ITEMS = `query($runId: ID!, $first: Int, $after: String, $outcome: ProposalRunItemOutcome) {
  proposalRun(runId: $runId) { runId items(first: $first, after: $after, outcome: $outcome) {
    edges { cursor node { id itemId accountId outcome planId source steps warnings { code message path } error } }
    pageInfo { hasNextPage endCursor } } } }`;

export type RunCounts = ProposalRunCounts;

export interface RunView {
  runId: string;
  status: string;
  dryRun: boolean;
  createdBy: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  counts: RunCounts;
}

export interface RunItemView {
  id: string;
  itemId: string;
  accountId: string;
  outcome: string;
  planId: string | null;
  source: string | null;
  steps: string[] | null;
  warnings: { code: string; message: string; path: string | null }[];
  error: string | null;
}

/** A ProposePlanInput for an account with a renewal in 45 days and a support risk. */
export const runItem = (accountId: string, extra: Record<string, unknown> = {}) => ({
  accountId,
  planType: 'RENEWAL_DEFENSE',
  signals: [
    { type: 'RENEWAL_WINDOW', days_to_renewal: 45, renewal_date: '2027-01-07' },
    { type: 'SUPPORT_RISK', severity: 'HIGH', open_escalations: 2 },
  ],
  ...extra,
});

/** The sum of every outcome's count: must equal total. */
export const sumOfOutcomes = (c: RunCounts): number =>
  c.pending + c.created + c.wouldCreate + c.skippedOpenPlan + c.skippedDuplicate + c.rejected + c.failed;
