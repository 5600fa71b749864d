import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CommandStartedEvent, Document } from 'mongodb';
import { encodeGlobalId } from '../../src/domain/globalId.js';
import { nodeRegistry } from '../../src/resolvers/nodeResolvers.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

// Global object identification against the real service and store: every Node type's id
// reads back through node(id:) and nodes(ids:), within the caller's tenant only, batched.

const PROPOSE = 'mutation($input: ProposePlanInput!) { proposePlan(input: $input) { plan { id planId ledger { edges { node { id entryId } } } } } }';
const NODE_FIELDS = '__typename id ... on Plan { planId status } ... on LedgerEntry { entryId planId seq }';

interface Proposed {
  id: string;
  planId: string;
  entry: { id: string; entryId: string };
}

describe('Node, node(id:) and nodes(ids:)', () => {
  let server: TestServer;
  let viewer: string;
  let otherTenant: string;
  let plans: Proposed[];
  const ledgerReads: CommandStartedEvent[] = [];
  const planReads: CommandStartedEvent[] = [];
  const listener = (e: CommandStartedEvent) => {
    if (e.commandName !== 'find') return;
    const collection = (e.command as Document).find;
    if (collection === 'plan_ledger') ledgerReads.push(e);
    if (collection === 'plans') planReads.push(e);
  };

  beforeAll(async () => {
    server = await startTestServer({ LEDGER_SEALER: 'off' });
    const proposer = await server.token('node-a', ['plan-proposer'], 'pia');
    viewer = await server.token('node-a', ['plan-viewer'], 'vera');
    otherTenant = await server.token('node-b', ['plan-viewer', 'plan-approver'], 'otto');
    plans = [];
    for (const account of ['acct-1', 'acct-2', 'acct-3']) {
      const res = await server.gql<{ proposePlan: { plan: { id: string; planId: string; ledger: { edges: { node: { id: string; entryId: string } }[] } } } }>(
        PROPOSE,
        { input: { accountId: account, planType: 'RENEWAL_DEFENSE', signals: [{ type: 'CHAMPION_LEFT' }] } },
        proposer,
      );
      expect(res.errors).toBeUndefined();
      const plan = res.data!.proposePlan.plan;
      plans.push({ id: plan.id, planId: plan.planId, entry: plan.ledger.edges[0]!.node });
    }
    server.running.mongo.client.on('commandStarted', listener);
  });
  afterAll(async () => {
    server.running.mongo.client.off('commandStarted', listener);
    await server.close();
  });

  it('every type the schema says implements Node is in the registry, and no other', async () => {
    const res = await server.gql<{ __type: { possibleTypes: { name: string }[] } }>('{ __type(name: "Node") { possibleTypes { name } } }', {}, viewer);
    expect(res.data!.__type.possibleTypes.map((t) => t.name).sort()).toEqual([...nodeRegistry.typenames].sort());
  });

  it('ids are opaque, distinct from planId/entryId, and stable across reads', async () => {
    const [plan] = plans;
    expect(plan!.id).not.toBe(plan!.planId);
    expect(plan!.id).not.toContain(plan!.planId);
    expect(plan!.entry.id).not.toBe(plan!.entry.entryId);
    const again = await server.gql<{ plan: { id: string } }>('query($p: ID!) { plan(planId: $p) { id } }', { p: plan!.planId }, viewer);
    expect(again.data!.plan.id).toBe(plan!.id);
    expect(plan!.id).toBe(encodeGlobalId('Plan', plan!.planId));
  });

  it('node(id:) reads a plan and a ledger entry back as their own types', async () => {
    const [plan] = plans;
    const res = await server.gql<{ p: Record<string, unknown>; e: Record<string, unknown> }>(
      `query($p: ID!, $e: ID!) { p: node(id: $p) { ${NODE_FIELDS} } e: node(id: $e) { ${NODE_FIELDS} } }`,
      { p: plan!.id, e: plan!.entry.id },
      viewer,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.p).toEqual({ __typename: 'Plan', id: plan!.id, planId: plan!.planId, status: 'DRAFT' });
    expect(res.data!.e).toEqual({ __typename: 'LedgerEntry', id: plan!.entry.id, entryId: plan!.entry.entryId, planId: plan!.planId, seq: 1 });
  });

  it('another tenant’s id, an unknown id, a malformed id and an unknown type all read as null, without an error', async () => {
    const [plan] = plans;
    const ids = [plan!.id, plan!.entry.id, encodeGlobalId('Plan', 'no-such-plan'), 'not-a-global-id!', encodeGlobalId('Account', 'acct-1'), ''];
    const single = await Promise.all(ids.map((id) => server.gql<{ node: unknown }>('query($id: ID!) { node(id: $id) { id } }', { id }, otherTenant)));
    for (const res of single) {
      expect(res.status).toBe(200);
      expect(res.errors).toBeUndefined();
      expect(res.data!.node).toBeNull();
    }
    const many = await server.gql<{ nodes: unknown[] }>('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids }, otherTenant);
    expect(many.errors).toBeUndefined();
    expect(many.data!.nodes).toEqual(ids.map(() => null));
  });

  it('nodes(ids:) answers in order, nulls in place, one query per type for the whole batch', async () => {
    const ids = [plans[2]!.entry.id, plans[0]!.id, encodeGlobalId('Plan', 'missing'), plans[1]!.id, plans[0]!.entry.id, plans[2]!.id];
    ledgerReads.length = 0;
    planReads.length = 0;
    const res = await server.gql<{ nodes: ({ id: string } | null)[] }>(`query($ids: [ID!]!) { nodes(ids: $ids) { ${NODE_FIELDS} } }`, { ids }, viewer);
    expect(res.errors).toBeUndefined();
    expect(res.data!.nodes.map((n) => n?.id ?? null)).toEqual([ids[0], ids[1], null, ids[3], ids[4], ids[5]]);
    // One plans query for the four plan ids and one ledger query for the two entry ids; the id
    // the batch misses is then read as plan(planId) reads it (the plan by id, then the ledger for
    // the PLAN_CREATED copy a crash may have left without its document).
    expect(planReads.length).toBe(2);
    const byIds = (reads: CommandStartedEvent[]) => reads.filter((e) => ((e.command as Document).filter as Document)._id?.$in !== undefined);
    expect(byIds(planReads).map((e) => ((e.command as Document).filter as Document)._id.$in.length)).toEqual([4]);
    expect(byIds(ledgerReads).map((e) => ((e.command as Document).filter as Document)._id.$in.length)).toEqual([2]);
    expect(ledgerReads.length).toBe(2);
  });

  it('needs a token and the type’s role; too many ids is BAD_USER_INPUT', async () => {
    const anonymous = await server.gql('query($id: ID!) { node(id: $id) { id } }', { id: plans[0]!.id }, null);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const noRoles = await server.token('node-a', [], 'nobody');
    const forbidden = await server.gql('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: [plans[0]!.id, 'garbage'] }, noRoles);
    expect(forbidden.data).toEqual({ nodes: [null, null] });
    expect(forbidden.errors).toHaveLength(1);
    expect(forbidden.errors![0]).toMatchObject({ path: ['nodes', 0], extensions: { code: 'FORBIDDEN' } });
    const tooMany = await server.gql('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: Array.from({ length: 101 }, (_v, i) => encodeGlobalId('Plan', `p${i}`)) }, viewer);
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('counts nodes(ids:) in the page budget: each id multiplies the pages below it', async () => {
    const ids = Array.from({ length: 100 }, (_v, i) => encodeGlobalId('Plan', `p${i}`));
    const res = await server.gql('query($ids: [ID!]!) { nodes(ids: $ids) { ... on Plan { ledger(first: 500) { edges { cursor } } } } }', { ids }, viewer);
    expect(res.errors?.[0]).toMatchObject({ message: expect.stringMatching(/list items/), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    expect(res.data).toBeUndefined();
  });
});
