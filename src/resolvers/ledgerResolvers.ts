import type { Resolvers } from '../generated/graphql.js';
import { requireRole } from '../graphql/context.js';
import { toConnection } from '../graphql/connections.js';

export const ledgerResolvers: Resolvers = {
  Query: {
    planLedger: async (_root, { filter, first, after }, ctx) =>
      toConnection(await ctx.services.queries.listLedger(requireRole(ctx, 'plan-viewer'), filter, { first, after }), { after }),
    ledgerStats: async (_root, { filter }, ctx) =>
      (await ctx.services.queries.ledgerStats(requireRole(ctx, 'plan-viewer'), filter, ctx.signal)).map((row) => ({ eventType: row.event_type, day: row.day, count: row.count })),
    verifyPlanLedger: async (_root, { planId }, ctx) => {
      // The chain, then its sealed entries against the latest signed checkpoint.
      const result = await ctx.services.ledgerLog.verifyPlan(requireRole(ctx, 'plan-viewer'), planId, ctx.signal);
      return { planId: result.plan_id, valid: result.valid, entries: result.entries, brokenAtSeq: result.broken_at_seq, checkpointTreeSize: result.checkpoint_tree_size };
    },
  },
  LedgerEntry: {
    entryId: (e) => e.entry_id,
    planId: (e) => e.plan_id,
    tenantId: (e) => e.tenant_id,
    accountId: (e) => e.account_id,
    eventType: (e) => e.event_type,
    timestamp: (e) => e.timestamp,
    seq: (e) => e.seq,
    actor: (e) => e.actor,
    data: (e) => e.data,
    prevHash: (e) => e.prev_hash,
    hash: (e) => e.hash,
  },
};
