import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { auditServer } from 'graphql-http';
import { startTestServer, type TestServer } from '../support/testServer.js';

// The GraphQL-over-HTTP specification against the real service: the specification's own audit
// suite (graphql-http's auditServer: every MUST, SHOULD and MAY it checks, warnings included),
// then the matrix this service answers: Accept header x kind of error -> status and media type.

const JSON_TYPE = 'application/json; charset=utf-8';
const GRAPHQL_RESPONSE = 'application/graphql-response+json; charset=utf-8';

/** How each Accept header is answered: the media type a single result goes out as. */
const ACCEPTS: { accept: string | null; type: string }[] = [
  { accept: null, type: JSON_TYPE },
  { accept: 'application/json', type: JSON_TYPE },
  { accept: '*/*', type: JSON_TYPE },
  { accept: 'application/graphql-response+json', type: GRAPHQL_RESPONSE },
  // Apollo Client's default, and the specification's recommended one.
  { accept: 'application/graphql-response+json,application/json;q=0.9', type: GRAPHQL_RESPONSE },
  { accept: 'application/json;q=0.5, application/graphql-response+json', type: GRAPHQL_RESPONSE },
];

interface Case {
  name: string;
  body: Record<string, unknown>;
  /** true: the request runs with a viewer's token. */
  token?: boolean;
  code: string | null;
  /** Status as application/json, and as application/graphql-response+json. */
  json: number;
  graphqlResponse: number;
  /** Whether the answer has a `data` entry. */
  data: boolean;
}

const PLAN_TYPES = '{ planTypes { planType } }';
const CASES: Case[] = [
  { name: 'success', body: { query: PLAN_TYPES }, token: true, code: null, json: 200, graphqlResponse: 200, data: true },
  { name: 'parse error', body: { query: '{ planTypes { ' }, code: 'GRAPHQL_PARSE_FAILED', json: 200, graphqlResponse: 400, data: false },
  { name: 'validation error', body: { query: '{ planTypes { nope } }' }, code: 'GRAPHQL_VALIDATION_FAILED', json: 200, graphqlResponse: 400, data: false },
  { name: 'variable coercion error', body: { query: 'query($n: Int) { plans(first: $n) { edges { cursor } } }', variables: { n: 'x' } }, code: 'BAD_USER_INPUT', json: 200, graphqlResponse: 400, data: false },
  { name: 'impossible DateTime literal', body: { query: '{ planLedger(filter: { since: "2027-02-30T00:00:00Z" }) { edges { cursor } } }' }, code: 'BAD_USER_INPUT', json: 200, graphqlResponse: 400, data: false },
  { name: 'unknown operation name', body: { query: `query A ${PLAN_TYPES}`, operationName: 'B' }, code: 'OPERATION_RESOLUTION_FAILURE', json: 200, graphqlResponse: 400, data: false },
  { name: 'over the page budget', body: { query: '{ plans(first: 500) { edges { node { ledger(first: 500) { edges { cursor } } } } } }' }, code: 'GRAPHQL_VALIDATION_FAILED', json: 200, graphqlResponse: 400, data: false },
  { name: 'persisted query not yet registered', body: { extensions: { persistedQuery: { version: 1, sha256Hash: '1'.repeat(64) } } }, code: 'PERSISTED_QUERY_NOT_FOUND', json: 200, graphqlResponse: 400, data: false },
  // Executed: a field error is data (partial or null), 200 under both types.
  { name: 'field error (no token)', body: { query: '{ plans { edges { cursor } } }' }, code: 'UNAUTHENTICATED', json: 200, graphqlResponse: 200, data: true },
  { name: 'field error (bad input in a resolver)', body: { query: '{ plans(first: 0) { edges { cursor } } }' }, token: true, code: 'BAD_USER_INPUT', json: 200, graphqlResponse: 200, data: true },
  // Not well-formed GraphQL-over-HTTP requests: 4xx whatever the Accept header.
  { name: 'no query', body: { variables: {} }, code: 'BAD_REQUEST', json: 400, graphqlResponse: 400, data: false },
  { name: 'query not a string', body: { query: 1 }, code: 'BAD_REQUEST', json: 400, graphqlResponse: 400, data: false },
  { name: 'persisted query whose hash does not match', body: { query: PLAN_TYPES, extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } } }, code: 'BAD_REQUEST', json: 400, graphqlResponse: 400, data: false },
];

describe('GraphQL over HTTP (real server, real store)', () => {
  let server: TestServer;
  let viewer: string;
  const url = () => `${server.url}/graphql`;

  beforeAll(async () => {
    server = await startTestServer({ LEDGER_SEALER: 'off' });
    viewer = await server.token('http', ['plan-viewer'], 'hugo');
  });
  afterAll(() => server.close());

  it('passes every audit of the specification’s audit suite, warnings included', async () => {
    // GET needs a preflight header (CSRF prevention), as for any client sending GET.
    const results = await auditServer({
      url: url(),
      fetchFn: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), 'apollo-require-preflight': 'true' } }),
    });
    const notOk = results.filter((r) => r.status !== 'ok').map((r) => `${r.status} ${r.id} ${r.name}`);
    expect(notOk).toEqual([]);
    expect(results.length).toBeGreaterThan(50);
  });

  const matrix = ACCEPTS.flatMap(({ accept, type }) => CASES.map((c) => [`${accept ?? '(no Accept)'} x ${c.name}`, accept, type, c] as const));
  it.each(matrix)('%s', async (_name, accept, type, c) => {
    const res = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(accept ? { accept } : {}), ...(c.token ? { authorization: `Bearer ${viewer}` } : {}) },
      body: JSON.stringify(c.body),
    });
    const body = (await res.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
    const expectedStatus = type === GRAPHQL_RESPONSE ? c.graphqlResponse : c.json;
    expect({ status: res.status, type: res.headers.get('content-type'), code: body.errors?.[0]?.extensions?.code ?? null, data: 'data' in body }).toEqual({
      status: expectedStatus,
      type,
      code: c.code,
      data: c.data,
    });
  });

  it('answers an Accept it cannot serve with 406', async () => {
    const res = await fetch(url(), { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/xml' }, body: JSON.stringify({ query: PLAN_TYPES }) });
    expect(res.status).toBe(406);
  });

  it('runs queries sent as GET (with the preflight header) and refuses mutations over GET with 405', async () => {
    const get = (params: Record<string, string>, headers: Record<string, string> = { 'apollo-require-preflight': 'true' }) => fetch(`${url()}?${new URLSearchParams(params)}`, { headers });
    const withToken = { 'apollo-require-preflight': 'true', authorization: `Bearer ${viewer}` };
    const query = await get({ query: 'query($t: PlanType!) { planTypeConfig(planType: $t) { planType } }', variables: JSON.stringify({ t: 'RENEWAL_DEFENSE' }) }, withToken);
    expect(query.status).toBe(200);
    expect(await query.json()).toEqual({ data: { planTypeConfig: { planType: 'RENEWAL_DEFENSE' } } });

    const mutation = await get({ query: 'mutation { abortPlan(planId: "x", reason: "over GET") { ok } }' }, { 'apollo-require-preflight': 'true', accept: 'application/graphql-response+json' });
    expect(mutation.status).toBe(405);
    expect(mutation.headers.get('allow')).toBe('POST');
    expect(((await mutation.json()) as { errors: unknown[] }).errors).toHaveLength(1);

    // Without a preflight header a GET is refused (CSRF prevention); a persisted query by hash works over GET too.
    expect((await get({ query: PLAN_TYPES }, {})).status).toBe(400);
    const hash = createHash('sha256').update(PLAN_TYPES).digest('hex');
    const register = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${viewer}` },
      body: JSON.stringify({ query: PLAN_TYPES, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }),
    });
    expect(register.status).toBe(200);
    const persisted = await get({ extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: hash } }) }, withToken);
    expect(await persisted.json()).toEqual({ data: { planTypes: [{ planType: 'RENEWAL_DEFENSE' }] } });
  });

  it('refuses methods other than GET and POST with 405', async () => {
    const res = await fetch(url(), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: PLAN_TYPES }) });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST');
  });
});
