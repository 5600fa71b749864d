import type { Resolvers } from '../generated/graphql.js';
import type { LedgerEntryRecord } from '../domain/ledger.js';
import type { RevenuePlanV1 } from '../domain/plan.js';
import { defineNode, NodeRegistry } from '../graphql/nodeRegistry.js';

// Every type that implements Node, one entry each: its type name, the role that reads it, its
// own id and its fetcher (through a per-request DataLoader). How a type joins: docs/api.md,
// "Object identification".
export const nodeRegistry = new NodeRegistry([
  defineNode<RevenuePlanV1>({ typename: 'Plan', role: 'plan-viewer', localId: (p) => p.plan_id, fetch: (ctx, id) => ctx.loaders.plan.load(id) }),
  defineNode<LedgerEntryRecord>({
    typename: 'LedgerEntry',
    role: 'plan-viewer',
    localId: (e) => e.entry_id,
    fetch: (ctx, id) => ctx.loaders.ledgerEntry.load(id),
  }),
]);

export const nodeResolvers: Resolvers = {
  Query: {
    node: (_root, { id }, ctx) => nodeRegistry.resolve(ctx, id) as never,
    nodes: (_root, { ids }, ctx) => nodeRegistry.resolveMany(ctx, ids) as never,
  },
  Node: {
    __resolveType: (obj) => nodeRegistry.typenameOf(obj) as never,
  },
  ...(nodeRegistry.idResolvers() as Resolvers),
};
