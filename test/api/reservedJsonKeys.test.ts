// __proto__, constructor and prototype inside client JSON: refused as BAD_USER_INPUT naming the
// path, through variables (the body as JSON.parse reads it) and literals alike; nothing stored.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestServer, type TestServer } from '../support/testServer.js';

describe('reserved keys in client JSON (real server)', () => {
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer();
    token = await server.token('proto', ['plan-proposer', 'plan-viewer'], 'pat');
  });
  afterAll(async () => {
    await server.close();
  });

  const rawPost = async (body: string) => {
    const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
    return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] } };
  };

  it.each(['__proto__', 'constructor', 'prototype'])('refuses a %s key, never dropping it or failing as a server error', async (key) => {
    const query = 'mutation($i: ProposePlanInput!) { proposePlan(input: $i) { plan { planId } } }';
    // Written by hand: JSON.stringify would not put a __proto__ key on the wire.
    const viaVariables = await rawPost(`{"query": ${JSON.stringify(query)}, "variables": {"i": {"accountId": "acct-p", "planType": "RENEWAL_DEFENSE", "tenantGoals": {"${key}": {"isAdmin": true}}}}}`);
    expect(viaVariables.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(viaVariables.body.errors?.[0]?.message).toMatch(/is reserved/);
    const literal = `mutation { proposePlan(input: { accountId: "acct-p", planType: RENEWAL_DEFENSE, signals: [{ type: "RENEWAL_WINDOW", ${key}: { x: 1 } }] }) { plan { planId } } }`;
    const viaLiteral = await rawPost(JSON.stringify({ query: literal }));
    expect(viaLiteral.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const plans = await server.gql<{ plans: { edges: unknown[] } }>('{ plans { edges { node { planId } } } }', {}, token);
    expect(plans.data?.plans.edges).toEqual([]);
  });
});
