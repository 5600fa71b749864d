// The proposal-runs panel's operations (static documents: codegen reads them from this file).
import type { DashboardProposalRunsQuery } from './generated/operations.js';

export type ProposalRunRow = DashboardProposalRunsQuery['proposalRuns']['edges'][number]['node'];

export const PROPOSAL_RUNS: string = /* GraphQL */ `
  query DashboardProposalRuns($first: Int) {
    proposalRuns(first: $first) {
      edges { node { runId status dryRun createdBy createdAt startedAt finishedAt
        counts { total pending created wouldCreate skippedOpenPlan skippedDuplicate rejected failed } } }
    }
  }`;
