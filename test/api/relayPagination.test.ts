import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client, fetchExchange, gql } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { startTestServer, type TestServer } from '../support/testServer.js';

// Connections follow the Relay cursor-connections spec, so a stock client's pagination helper
// works unchanged: urql's normalized cache with relayPagination() pages plans, the tenant feed
// and a plan's ledger forward, merging pages by their cursors and page info, against the real
// service. The merged list must equal the list read in one page.

interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
  hasPreviousPage: boolean;
  startCursor: string | null;
}
interface Connection<N> {
  edges: { cursor: string; node: N }[];
  pageInfo: PageInfo;
}

const PAGE_INFO = 'pageInfo { hasNextPage endCursor hasPreviousPage startCursor }';
const PLANS = gql`
  query Plans($first: Int!, $after: String) {
    plans(first: $first, after: $after) { edges { cursor node { planId accountId } } ${PAGE_INFO} }
  }
`;
const FEED = gql`
  query Feed($first: Int!, $after: String) {
    planLedger(first: $first, after: $after) { edges { cursor node { entryId eventType } } ${PAGE_INFO} }
  }
`;
const PLAN_LEDGER = gql`
  query PlanLedger($id: ID!, $first: Int!, $after: String) {
    plan(planId: $id) { planId ledger(first: $first, after: $after) { edges { cursor node { entryId seq } } ${PAGE_INFO} } }
  }
`;

describe('Relay connections through urql’s relayPagination (real server, real store)', () => {
  let server: TestServer;
  let viewer: string;
  let client: Client;
  let storyPlan: string;

  beforeAll(async () => {
    server = await startTestServer();
    const proposer = await server.token('relay', ['plan-proposer', 'plan-approver'], 'rita');
    viewer = await server.token('relay', ['plan-viewer'], 'vic');
    for (let i = 0; i < 7; i++) {
      const res = await server.gql<{ proposePlan: { plan: { planId: string } } }>(
        'mutation($input: ProposePlanInput!) { proposePlan(input: $input) { plan { planId } } }',
        { input: { accountId: `acct-${i}`, planType: 'RENEWAL_DEFENSE', signals: [{ type: 'CHAMPION_LEFT' }] } },
        proposer,
      );
      storyPlan = res.data!.proposePlan.plan.planId;
    }
    // A story of five events: created, approved, activated, paused, resumed.
    for (const mutation of ['approvePlan(planId: $id)', 'activatePlan(planId: $id, preconditionsMet: true)', 'pausePlan(planId: $id)', 'resumePlan(planId: $id, preconditionsMet: true)']) {
      const res = await server.gql<{ r: { ok: boolean } }>(`mutation($id: ID!) { r: ${mutation} { ok } }`, { id: storyPlan }, proposer);
      expect(res.data?.r.ok).toBe(true);
    }
    client = new Client({
      url: `${server.url}/graphql`,
      // urql sends queries as GET by default; Apollo's CSRF prevention wants a preflight header on those.
      fetchOptions: () => ({ headers: { authorization: `Bearer ${viewer}`, 'apollo-require-preflight': 'true' } }),
      requestPolicy: 'cache-first',
      exchanges: [
        cacheExchange({
          keys: { Plan: (p) => p.planId as string, LedgerEntry: (e) => e.entryId as string, PlanConnection: () => null, PlanEdge: () => null, LedgerConnection: () => null, LedgerEdge: () => null, PageInfo: () => null },
          resolvers: { Query: { plans: relayPagination(), planLedger: relayPagination() }, Plan: { ledger: relayPagination() } },
        }),
        fetchExchange,
      ],
    });
  });
  afterAll(async () => {
    await server.close();
  });

  /** Pages forward with the client as an app would (next page `after` the merged endCursor); returns each merged result. */
  async function pageThrough<N>(query: typeof PLANS, variables: Record<string, unknown>, pick: (data: never) => Connection<N>): Promise<Connection<N>[]> {
    const merged: Connection<N>[] = [];
    let after: string | null = null;
    for (let i = 0; i < 20; i++) {
      const result = await client.query(query, { ...variables, after }).toPromise();
      expect(result.error).toBeUndefined();
      const connection = pick(result.data as never);
      merged.push(connection);
      if (!connection.pageInfo.hasNextPage) return merged;
      after = connection.pageInfo.endCursor;
    }
    throw new Error('pagination did not end');
  }

  /** The same list in one page, straight from the service. */
  async function onePage<N>(query: string, variables: Record<string, unknown>, pick: (data: never) => Connection<N>): Promise<Connection<N>> {
    const res = await server.gql(query, variables, viewer);
    expect(res.errors).toBeUndefined();
    return pick(res.data as never);
  }

  it('pages plans: the merged list is the whole list, in order, and the page info follows the spec', async () => {
    const pages = await pageThrough(PLANS, { first: 3 }, (d: { plans: Connection<{ planId: string }> }) => d.plans);
    const whole = await onePage(PLANS.loc!.source.body, { first: 50 }, (d: { plans: Connection<{ planId: string }> }) => d.plans);
    expect(whole.edges).toHaveLength(7);
    expect(pages.map((p) => p.edges.length)).toEqual([3, 6, 7]);
    const last = pages.at(-1)!;
    expect(last.edges.map((e) => e.node.planId)).toEqual(whole.edges.map((e) => e.node.planId));
    expect(last.edges.map((e) => e.cursor)).toEqual(whole.edges.map((e) => e.cursor));
    // Merged: start from the first page, end from the last.
    expect(last.pageInfo).toEqual({ hasNextPage: false, endCursor: whole.edges[6]!.cursor, hasPreviousPage: false, startCursor: whole.edges[0]!.cursor });
  });

  it('answers each page’s own page info: hasPreviousPage after a cursor, startCursor its first edge', async () => {
    const first = await onePage(PLANS.loc!.source.body, { first: 3 }, (d: { plans: Connection<unknown> }) => d.plans);
    expect(first.pageInfo).toEqual({ hasNextPage: true, endCursor: first.edges[2]!.cursor, hasPreviousPage: false, startCursor: first.edges[0]!.cursor });
    const second = await onePage(PLANS.loc!.source.body, { first: 3, after: first.pageInfo.endCursor }, (d: { plans: Connection<unknown> }) => d.plans);
    expect(second.pageInfo).toEqual({ hasNextPage: true, endCursor: second.edges[2]!.cursor, hasPreviousPage: true, startCursor: second.edges[0]!.cursor });
    const third = await onePage(PLANS.loc!.source.body, { first: 3, after: second.pageInfo.endCursor }, (d: { plans: Connection<unknown> }) => d.plans);
    expect(third.edges).toHaveLength(1);
    expect(third.pageInfo).toEqual({ hasNextPage: false, endCursor: third.edges[0]!.cursor, hasPreviousPage: true, startCursor: third.edges[0]!.cursor });
    const empty = await server.gql<{ plans: Connection<unknown> }>('{ plans(filter: { accountId: "nobody" }) { edges { cursor } pageInfo { hasNextPage endCursor hasPreviousPage startCursor } } }', {}, viewer);
    expect(empty.data?.plans).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null, hasPreviousPage: false, startCursor: null } });
  });

  it('pages the tenant feed (newest first) the same way', async () => {
    const pages = await pageThrough(FEED, { first: 4 }, (d: { planLedger: Connection<{ entryId: string }> }) => d.planLedger);
    const whole = await onePage(FEED.loc!.source.body, { first: 100 }, (d: { planLedger: Connection<{ entryId: string }> }) => d.planLedger);
    expect(whole.edges).toHaveLength(11);
    expect(pages.map((p) => p.edges.length)).toEqual([4, 8, 11]);
    expect(pages.at(-1)!.edges.map((e) => e.node.entryId)).toEqual(whole.edges.map((e) => e.node.entryId));
    expect(pages.at(-1)!.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false, startCursor: whole.edges[0]!.cursor });
  });

  it('pages a plan’s own ledger (a connection on an entity) the same way', async () => {
    const pages = await pageThrough(PLAN_LEDGER, { id: storyPlan, first: 2 }, (d: { plan: { ledger: Connection<{ seq: number }> } }) => d.plan.ledger);
    expect(pages.map((p) => p.edges.map((e) => e.node.seq))).toEqual([[1, 2], [1, 2, 3, 4], [1, 2, 3, 4, 5]]);
    const second = await onePage(PLAN_LEDGER.loc!.source.body, { id: storyPlan, first: 2, after: pages[0]!.pageInfo.endCursor }, (d: { plan: { ledger: Connection<unknown> } }) => d.plan.ledger);
    expect(second.pageInfo).toMatchObject({ hasPreviousPage: true, startCursor: second.edges[0]!.cursor });
  });
});
