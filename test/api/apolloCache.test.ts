import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { startTestServer, type TestServer } from '../support/testServer.js';

// A real client cache against the real service over HTTP: Apollo Client's InMemoryCache
// normalizes objects by __typename and id (the Node id), so a mutation that returns a plan
// updates every list that holds it. No refetch: after the mutation no request is sent.

interface PlansData {
  plans: { edges: { node: { planId: string; status: string; id?: string } }[] };
}

const PLANS = gql`
  query Plans {
    plans(first: 10) { edges { cursor node { id planId status approvedBy } } pageInfo { hasNextPage endCursor } }
  }
`;
const APPROVE = gql`
  mutation Approve($planId: ID!) {
    approvePlan(planId: $planId) { ok plan { id planId status approvedBy } }
  }
`;
// The same list and mutation without the global id: the cache cannot tell it is the same plan.
const PLANS_WITHOUT_ID = gql`
  query PlansWithoutId {
    plans(first: 10) { edges { cursor node { planId status } } pageInfo { hasNextPage endCursor } }
  }
`;
const APPROVE_WITHOUT_ID = gql`
  mutation ApproveWithoutId($planId: ID!) {
    approvePlan(planId: $planId) { ok plan { planId status } }
  }
`;

describe('Apollo Client InMemoryCache over the real service', () => {
  let server: TestServer;
  let token: string;
  const sent: string[] = [];

  beforeAll(async () => {
    server = await startTestServer({ LEDGER_SEALER: 'off' });
    token = await server.token('apollo', ['plan-proposer', 'plan-approver'], 'ada');
    for (const account of ['acct-1', 'acct-2']) {
      const res = await server.gql(
        'mutation($input: ProposePlanInput!) { proposePlan(input: $input) { plan { planId } } }',
        { input: { accountId: account, planType: 'RENEWAL_DEFENSE', signals: [{ type: 'CHAMPION_LEFT' }] } },
        token,
      );
      expect(res.errors).toBeUndefined();
    }
  });
  afterAll(() => server.close());

  function newClient(): ApolloClient {
    const countingFetch: typeof fetch = (input, init) => {
      sent.push(JSON.parse(String(init?.body)).operationName);
      return fetch(input, init);
    };
    return new ApolloClient({
      link: new HttpLink({ uri: `${server.url}/graphql`, fetch: countingFetch, headers: { authorization: `Bearer ${token}` } }),
      cache: new InMemoryCache(),
    });
  }

  const statusOf = (data: PlansData | null, planId: string) => data?.plans.edges.find((e) => e.node.planId === planId)?.node.status;

  it('a list read from the cache shows the approved plan APPROVED after approvePlan, without a refetch', async () => {
    const client = newClient();
    sent.length = 0;
    const list = await client.query<PlansData>({ query: PLANS });
    const draft = list.data!.plans.edges.find((e) => e.node.status === 'DRAFT')!.node;
    expect(list.data!.plans.edges).toHaveLength(2);

    const approved = await client.mutate({ mutation: APPROVE, variables: { planId: draft.planId } });
    expect(approved.error).toBeUndefined();
    expect(sent).toEqual(['Plans', 'Approve']);

    // The list as the cache holds it now: read directly, and through a cache-only query.
    expect(statusOf(client.readQuery<PlansData>({ query: PLANS }), draft.planId)).toBe('APPROVED');
    const cached = await client.query<PlansData>({ query: PLANS, fetchPolicy: 'cache-only' });
    expect(statusOf(cached.data as PlansData, draft.planId)).toBe('APPROVED');
    expect(cached.data!.plans.edges.find((e) => e.node.planId === draft.planId)!.node).toMatchObject({ approvedBy: 'ada' });
    // The other plan is untouched, and nothing was sent after the mutation.
    expect(cached.data!.plans.edges.filter((e) => e.node.status === 'DRAFT')).toHaveLength(1);
    expect(sent).toEqual(['Plans', 'Approve']);
    // The cache keyed the plan by the global id the service issued.
    expect(client.cache.identify({ __typename: 'Plan', id: draft.id })).toBe(`Plan:${draft.id}`);
    expect(Object.keys(client.cache.extract() as object)).toContain(`Plan:${draft.id}`);
  });

  it('without the id the same flow leaves the cached list stale (what the Node id buys)', async () => {
    const client = newClient();
    const list = await client.query<PlansData>({ query: PLANS_WITHOUT_ID });
    const draft = list.data!.plans.edges.find((e) => e.node.status === 'DRAFT')!.node;
    const approved = await client.mutate({ mutation: APPROVE_WITHOUT_ID, variables: { planId: draft.planId } });
    expect(approved.error).toBeUndefined();
    expect(statusOf(client.readQuery<PlansData>({ query: PLANS_WITHOUT_ID }), draft.planId)).toBe('DRAFT');
  });

  it('sends persisted queries by hash: an unknown hash answered 400 as graphql-response+json is retried with its query', async () => {
    const statuses: number[] = [];
    const countingFetch: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      statuses.push(res.status);
      return res;
    };
    const http = new HttpLink({ uri: `${server.url}/graphql`, fetch: countingFetch, headers: { authorization: `Bearer ${token}` } });
    const sha256 = (query: string) => createHash('sha256').update(query).digest('hex');
    const client = new ApolloClient({ link: new PersistedQueryLink({ sha256 }).concat(http), cache: new InMemoryCache() });
    const query = gql`query PlanTypesByHash { planTypes { planType } }`;
    const first = await client.query<{ planTypes: { planType: string }[] }>({ query, fetchPolicy: 'network-only' });
    expect(first.data!.planTypes).toEqual([{ __typename: 'PlanTypeConfig', planType: 'RENEWAL_DEFENSE' }]);
    // The hash alone (unknown: 400 under Apollo Client's default Accept), then hash and query.
    expect(statuses).toEqual([400, 200]);
    const again = await client.query<{ planTypes: { planType: string }[] }>({ query, fetchPolicy: 'network-only' });
    expect(again.data).toEqual(first.data);
    expect(statuses).toEqual([400, 200, 200]);
  });
});
