import type { Resolvers } from '../generated/graphql.js';
import type { LedgerEntryRecord } from '../domain/ledger.js';
import type { RevenuePlanV1 } from '../domain/plan.js';
import { defineNode, NodeRegistry } from '../graphql/nodeRegistry.js';
import { playbookLocalId, type PlaybookVersionView } from '../services/playbooks/PlaybookService.js';
import type { WebhookDeliveryRecord, WebhookEndpointRecord } from '../store/index.js';
import { requireRole } from '../graphql/context.js';
import type { StoredRun, StoredRunItem } from '../store/index.js';

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
  defineNode<PlaybookVersionView>({
    typename: 'PlanTypeConfigVersion',
    role: 'plan-viewer',
    localId: (v) => playbookLocalId(v.plan_type, v.version),
    fetch: (ctx, id) => ctx.loaders.playbookVersion.load(id),
  }),
  defineNode<WebhookEndpointRecord>({ typename: 'WebhookEndpoint', role: 'plan-admin', localId: (e) => e._id, fetch: (ctx, id) => ctx.loaders.webhookEndpoint.load(id) }),
  defineNode<WebhookDeliveryRecord>({ typename: 'WebhookDelivery', role: 'plan-admin', localId: (d) => d._id, fetch: (ctx, id) => ctx.loaders.webhookDelivery.load(id) }),
  defineNode<StoredRun>({
    typename: 'ProposalRun',
    role: 'plan-viewer',
    localId: (r) => r.run_id,
    // One read per id: nodes(ids:) rarely names many runs.
    fetch: (ctx, id) => ctx.services.proposalRuns.get(requireRole(ctx, 'plan-viewer'), id),
  }),
  defineNode<StoredRunItem>({
    typename: 'ProposalRunItem',
    role: 'plan-viewer',
    localId: (i) => i.item_id,
    // One read per id, as for runs: a client refetches an item it shows, rarely many at once.
    fetch: (ctx, id) => ctx.services.proposalRuns.getItem(requireRole(ctx, 'plan-viewer'), id),
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
