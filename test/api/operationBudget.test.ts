// The operation budget (pageBudgetPlugin) against the real server: what one request may ask
// for is counted before anything runs, with variable defaults, bounded lists and aliases of
// expensive fields included.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestServer, type TestServer } from '../support/testServer.js';

const refused = (res: { errors?: { message: string; extensions?: { code?: string } }[] }) => ({ code: res.errors?.[0]?.extensions?.code, message: res.errors?.[0]?.message ?? '' });

describe('operation budget (real server)', () => {
  let server: TestServer;
  let viewer: string;
  let proposer: string;
  beforeAll(async () => {
    server = await startTestServer();
    viewer = await server.token('budget', ['plan-viewer'], 'vic');
    proposer = await server.token('budget', ['plan-proposer', 'plan-viewer'], 'pia');
  });
  afterAll(async () => {
    await server.close();
  });

  it('counts a page size given as a variable default, not only as a sent variable', async () => {
    const query = 'query($n: Int = 500) { plans(first: $n) { edges { node { ledger(first: $n) { edges { node { entryId } } } } } } }';
    const res = await server.gql(query, {}, viewer);
    expect(refused(res)).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED', message: expect.stringMatching(/up to 250500 list items; the limit is 10000/) });
    // The same default, overridden by a small sent value, runs.
    expect((await server.gql(query, { n: 5 }, viewer)).errors).toBeUndefined();
  });

  it('counts openPlans as a list of its bounded size', async () => {
    const query = `mutation($i: ProposePlanInput!) { proposePlan(input: $i) { openPlans { ledger(first: 500) { edges { node { entryId } } } } } }`;
    const res = await server.gql(query, { i: { accountId: 'a1', planType: 'RENEWAL_DEFENSE' } }, proposer);
    expect(refused(res)).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED', message: expect.stringMatching(/up to 10020 list items/) });
  });

  it('counts every alias of an expensive field, and refuses past the limit before anything runs', async () => {
    const aliases = (field: string, n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;
    for (const field of ['verifyLedgerCheckpoint { valid }', 'ledgerStats { count }', 'planStatusCounts { count }', 'verifyPlanLedger(planId: "p") { valid }']) {
      const res = await server.gql(aliases(field, 15), {}, viewer);
      expect(refused(res)).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED', message: expect.stringMatching(/runs 15 expensive fields .* the limit is 3/) });
    }
    expect((await server.gql(aliases('verifyLedgerCheckpoint { valid }', 3), {}, viewer)).errors).toBeUndefined();
    // Fifteen model calls in one request: refused, and no plan written.
    const propose = `mutation { ${Array.from({ length: 15 }, (_, i) => `p${i}: proposePlan(input: { accountId: "fan-${i}", planType: RENEWAL_DEFENSE }) { plan { planId } }`).join(' ')} }`;
    expect(refused(await server.gql(propose, {}, proposer)).code).toBe('GRAPHQL_VALIDATION_FAILED');
    const plans = await server.gql<{ plans: { edges: unknown[] } }>('{ plans(first: 50) { edges { node { planId } } } }', {}, viewer);
    expect(plans.data?.plans.edges).toEqual([]);
  });
});
