import type { Resolvers } from '../generated/graphql.js';
import { requireRole } from '../graphql/context.js';
import { toConnection } from '../graphql/connections.js';

// Proposal runs (docs/runs.md): mutations need plan-proposer, reads plan-viewer; a run is the tenant's.
export const proposalRunResolvers: Resolvers = {
  Query: {
    proposalRun: (_root, { runId }, ctx) => ctx.services.proposalRuns.get(requireRole(ctx, 'plan-viewer'), runId),
    proposalRuns: async (_root, args, ctx) => toConnection(await ctx.services.proposalRuns.list(requireRole(ctx, 'plan-viewer'), args), args),
  },
  Mutation: {
    createProposalRun: (_root, { dryRun }, ctx) => ctx.services.proposalRuns.create(requireRole(ctx, 'plan-proposer'), dryRun),
    addProposalRunItems: (_root, { runId, items }, ctx) => ctx.services.proposalRuns.addItems(requireRole(ctx, 'plan-proposer'), runId, items),
    startProposalRun: (_root, { runId }, ctx) => ctx.services.proposalRuns.start(requireRole(ctx, 'plan-proposer'), runId),
    cancelProposalRun: (_root, { runId }, ctx) => ctx.services.proposalRuns.cancel(requireRole(ctx, 'plan-proposer'), runId),
  },
  ProposalRun: {
    runId: (r) => r.run_id,
    status: (r) => r.status,
    dryRun: (r) => r.dry_run,
    createdBy: (r) => r.created_by,
    createdAt: (r) => r.created_at,
    startedAt: (r) => r.started_at,
    finishedAt: (r) => r.finished_at,
    counts: (r, _args, ctx) => ctx.services.proposalRuns.counts(requireRole(ctx, 'plan-viewer'), r),
    items: async (r, args, ctx) => toConnection(await ctx.services.proposalRuns.items(requireRole(ctx, 'plan-viewer'), r, args), args),
  },
  ProposalRunItem: {
    itemId: (i) => i.item_id,
    accountId: (i) => i.account_id,
    outcome: (i) => i.outcome,
    planId: (i) => i.plan_id,
    source: (i) => i.source,
    steps: (i) => i.steps,
    warnings: (i) => i.warnings,
    error: (i) => i.error,
  },
};
