import type { Resolvers } from '../generated/graphql.js';
import { requireRole } from '../graphql/context.js';

// The verifiable ledger's reads (schema/ledgerLog.graphql); verifyPlanLedger's checkpoint
// check lives in ledgerResolvers with the rest of that field.
export const ledgerLogResolvers: Resolvers = {
  Query: {
    ledgerCheckpoint: (_root, { treeSize }, ctx) => ctx.services.ledgerLog.checkpoint(requireRole(ctx, 'plan-viewer'), treeSize),
    ledgerInclusionProof: (_root, { entryId, treeSize }, ctx) => ctx.services.ledgerLog.inclusionProof(requireRole(ctx, 'plan-viewer'), entryId, treeSize),
    ledgerConsistencyProof: (_root, { fromSize, toSize }, ctx) => ctx.services.ledgerLog.consistencyProof(requireRole(ctx, 'plan-viewer'), fromSize, toSize),
    ledgerSigningKeys: (_root, _args, ctx) => {
      requireRole(ctx, 'plan-viewer');
      return ctx.services.ledgerLog.signingKeys();
    },
    verifyLedgerCheckpoint: (_root, { treeSize }, ctx) => ctx.services.ledgerLog.verifyCheckpoint(requireRole(ctx, 'plan-viewer'), treeSize, ctx.signal),
  },
};
