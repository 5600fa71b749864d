import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestServer, type TestServer } from '../support/testServer.js';

const COUNTS = `query($filter: PlanFilter) { planStatusCounts(filter: $filter) { status count } }`;
const PROPOSE = `mutation($input: ProposePlanInput!) { proposePlan(input: $input) { plan { planId } } }`;
const APPROVE = `mutation($planId: ID!) { approvePlan(planId: $planId) { ok } }`;
const SIGNALS = [{ type: 'RENEWAL_WINDOW', days_to_renewal: 45, renewal_date: '2027-01-07' }];

type Counts = { planStatusCounts: { status: string; count: number }[] };

describe('planStatusCounts (real server, real store)', () => {
  let server: TestServer;
  let proposer: string;
  let viewer: string;
  let other: string;

  beforeAll(async () => {
    server = await startTestServer();
    proposer = await server.token('acme', ['plan-proposer', 'plan-approver'], 'paula');
    viewer = await server.token('acme', ['plan-viewer'], 'vera');
    other = await server.token('globex', ['plan-proposer', 'plan-approver'], 'mallory');
    const propose = async (accountId: string, token: string) => {
      const res = await server.gql<{ proposePlan: { plan: { planId: string } } }>(PROPOSE, { input: { accountId, planType: 'RENEWAL_DEFENSE', signals: SIGNALS } }, token);
      expect(res.errors).toBeUndefined();
      return res.data!.proposePlan.plan.planId;
    };
    for (const account of ['acct-a', 'acct-a', 'acct-b', 'acct-c']) await propose(account, proposer);
    const approved = await propose('acct-a', proposer);
    expect((await server.gql(APPROVE, { planId: approved }, proposer)).errors).toBeUndefined();
    for (const account of ['acct-a', 'acct-x']) await propose(account, other);
  });
  afterAll(async () => {
    await server.close();
  });

  it("counts the tenant's plans per status, in status order, leaving out statuses without plans", async () => {
    const res = await server.gql<Counts>(COUNTS, {}, viewer);
    expect(res.errors).toBeUndefined();
    expect(res.data!.planStatusCounts).toEqual([
      { status: 'DRAFT', count: 4 },
      { status: 'APPROVED', count: 1 },
    ]);
    // the same as counting the listed plans
    const listed = await server.gql<{ plans: { edges: { node: { status: string } }[] } }>(`{ plans(first: 500) { edges { node { status } } } }`, {}, viewer);
    const byStatus: Record<string, number> = {};
    for (const { node } of listed.data!.plans.edges) byStatus[node.status] = (byStatus[node.status] ?? 0) + 1;
    expect(Object.fromEntries(res.data!.planStatusCounts.map((c) => [c.status, c.count]))).toEqual(byStatus);
  });

  it('follows the account and plan type filters, ignores the status filter, and sees only its own tenant', async () => {
    const byAccount = await server.gql<Counts>(COUNTS, { filter: { accountId: 'acct-a', status: ['ACTIVE'] } }, viewer);
    expect(byAccount.data!.planStatusCounts).toEqual([
      { status: 'DRAFT', count: 2 },
      { status: 'APPROVED', count: 1 },
    ]);
    const byType = await server.gql<Counts>(COUNTS, { filter: { planType: 'RENEWAL_DEFENSE', accountId: 'acct-b' } }, viewer);
    expect(byType.data!.planStatusCounts).toEqual([{ status: 'DRAFT', count: 1 }]);
    const nobody = await server.gql<Counts>(COUNTS, { filter: { accountId: 'acct-x' } }, viewer);
    expect(nobody.data!.planStatusCounts).toEqual([]);
    const globex = await server.gql<Counts>(COUNTS, {}, other);
    expect(globex.data!.planStatusCounts).toEqual([{ status: 'DRAFT', count: 2 }]);
  });

  it('needs a viewer token and a valid filter', async () => {
    expect((await server.gql(COUNTS, {}, null)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const bad = await server.gql(COUNTS, { filter: { accountId: 'x'.repeat(10_000) } }, viewer);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
