import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { mintDevToken } from '../../src/auth/devToken.js';
import { loadConfig } from '../../src/config/env.js';
import { startService, type RunningService } from '../../src/server/runtime.js';
import { TEST_JWT_SECRET } from '../support/testServer.js';
import { testStoreUri } from '../support/testDb.js';
import { generateSigningKey } from '../../src/services/ledgerLog/checkpointSigner.js';

// Every client mistake, down to the transport (body, media type, encoding, method, batching,
// persisted queries), answers JSON in GraphQL's error shape with a client code, is logged as a
// client error (info, with its outcome code; no error-level line), and carries no stack trace,
// in development as in production. Production also drops every "Did you mean".

const MAX_BODY_BYTES = 64 * 1024;

interface LogLine {
  level: number;
  msg: string;
  outcome?: string;
}

interface Service {
  url: string;
  running: RunningService;
  logs: LogLine[];
  close(): Promise<void>;
}

async function startWithLogs(nodeEnv: 'development' | 'production'): Promise<Service> {
  const dbName = `errors_${randomBytes(6).toString('hex')}`;
  const config = loadConfig({ NODE_ENV: nodeEnv, PORT: '0', MONGODB_URI: testStoreUri(), MONGODB_DB: dbName, JWT_SECRET: TEST_JWT_SECRET, MAX_BODY_BYTES: String(MAX_BODY_BYTES), LEDGER_SIGNING_KEY: generateSigningKey(), WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64') });
  const logs: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const running = await startService(config, logger);
  return {
    url: `${running.url}/graphql`,
    running,
    logs,
    close: async () => {
      await running.stop();
      const client = new MongoClient(testStoreUri());
      await client.connect();
      await client.db(dbName).dropDatabase().catch(() => undefined);
      await client.close();
    },
  };
}

interface Probe {
  name: string;
  status: number;
  code: string;
  method?: string;
  /** Query string for a GET. */
  search?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const PLAN_TYPES = '{ planTypes { planType } }';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const persisted = (version: unknown, hash: string, query?: string) => JSON.stringify({ ...(query ? { query } : {}), extensions: { persistedQuery: { version, sha256Hash: hash } } });

const PROBES: Probe[] = [
  // The body.
  { name: 'malformed JSON', status: 400, code: 'BAD_USER_INPUT', headers: JSON_TYPE, body: '{"query": ' },
  { name: 'body over MAX_BODY_BYTES', status: 413, code: 'BAD_USER_INPUT', headers: JSON_TYPE, body: JSON.stringify({ query: PLAN_TYPES, pad: 'x'.repeat(MAX_BODY_BYTES) }) },
  { name: 'JSON that is not an object', status: 400, code: 'BAD_USER_INPUT', headers: JSON_TYPE, body: '"{ planTypes { planType } }"' },
  { name: 'empty body', status: 400, code: 'BAD_REQUEST', headers: JSON_TYPE, body: '' },
  { name: 'no query', status: 400, code: 'BAD_REQUEST', headers: JSON_TYPE, body: '{"variables":{}}' },
  { name: 'query not a string', status: 400, code: 'BAD_REQUEST', headers: JSON_TYPE, body: '{"query":1}' },
  { name: 'variables not an object', status: 400, code: 'BAD_REQUEST', headers: JSON_TYPE, body: JSON.stringify({ query: PLAN_TYPES, variables: [1] }) },
  { name: 'extensions not an object', status: 400, code: 'BAD_REQUEST', headers: JSON_TYPE, body: JSON.stringify({ query: PLAN_TYPES, extensions: 'x' }) },
  { name: 'batched array (batching is off)', status: 400, code: 'BAD_REQUEST', headers: JSON_TYPE, body: JSON.stringify([{ query: PLAN_TYPES }, { query: PLAN_TYPES }]) },
  // A GraphQL request error, 200 as application/json (see below).
  { name: 'unknown operation name', status: 200, code: 'OPERATION_RESOLUTION_FAILURE', headers: JSON_TYPE, body: JSON.stringify({ query: `query A ${PLAN_TYPES}`, operationName: 'B' }) },
  // Encodings and media types.
  { name: 'unsupported Content-Encoding', status: 415, code: 'BAD_REQUEST', headers: { ...JSON_TYPE, 'content-encoding': 'compress' }, body: JSON.stringify({ query: PLAN_TYPES }) },
  { name: 'gzip that is not gzip', status: 400, code: 'BAD_REQUEST', headers: { ...JSON_TYPE, 'content-encoding': 'gzip' }, body: JSON.stringify({ query: PLAN_TYPES }) },
  { name: 'unsupported charset', status: 415, code: 'BAD_REQUEST', headers: { 'content-type': 'application/json; charset=latin1' }, body: JSON.stringify({ query: PLAN_TYPES }) },
  { name: 'unknown charset', status: 415, code: 'BAD_REQUEST', headers: { 'content-type': 'application/json; charset=no-such' }, body: JSON.stringify({ query: PLAN_TYPES }) },
  { name: 'text/plain (CSRF prevention)', status: 400, code: 'BAD_REQUEST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: PLAN_TYPES }) },
  { name: 'form-urlencoded (CSRF prevention)', status: 400, code: 'BAD_REQUEST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'query=x' },
  { name: 'application/xml', status: 400, code: 'BAD_REQUEST', headers: { 'content-type': 'application/xml', 'apollo-require-preflight': 'true' }, body: '<query/>' },
  { name: 'application/graphql', status: 400, code: 'BAD_REQUEST', headers: { 'content-type': 'application/graphql' }, body: PLAN_TYPES },
  { name: 'an Accept the server cannot answer', status: 406, code: 'BAD_REQUEST', headers: { ...JSON_TYPE, accept: 'application/xml' }, body: JSON.stringify({ query: PLAN_TYPES }) },
  // Methods.
  { name: 'GET with a mutation', status: 405, code: 'BAD_REQUEST', method: 'GET', search: { query: 'mutation { abortPlan(planId: "x", reason: "get") { ok } }' }, headers: { 'apollo-require-preflight': 'true' } },
  { name: 'GET without a preflight header (CSRF)', status: 400, code: 'BAD_REQUEST', method: 'GET', search: { query: PLAN_TYPES } },
  { name: 'GET with variables that are not JSON', status: 400, code: 'BAD_REQUEST', method: 'GET', search: { query: PLAN_TYPES, variables: '{' }, headers: { 'apollo-require-preflight': 'true' } },
  { name: 'PUT', status: 405, code: 'BAD_REQUEST', method: 'PUT', headers: JSON_TYPE, body: JSON.stringify({ query: PLAN_TYPES }) },
  // Persisted queries.
  { name: 'persisted query of an unsupported version', status: 400, code: 'BAD_REQUEST', headers: JSON_TYPE, body: persisted(2, sha256(PLAN_TYPES)) },
  { name: 'persisted query that is not an object', status: 400, code: 'BAD_REQUEST', headers: JSON_TYPE, body: JSON.stringify({ extensions: { persistedQuery: 'x' } }) },
  { name: 'persisted query hash that does not match its query', status: 400, code: 'BAD_REQUEST', headers: JSON_TYPE, body: persisted(1, '0'.repeat(64), PLAN_TYPES) },
  { name: 'persisted query hash not registered', status: 200, code: 'PERSISTED_QUERY_NOT_FOUND', headers: JSON_TYPE, body: persisted(1, '1'.repeat(64)) },
  // The document and its values: GraphQL request errors of a well-formed request, 200 as
  // application/json (no Accept header); graphqlOverHttp.test.ts has the graphql-response+json side.
  { name: 'syntax error', status: 200, code: 'GRAPHQL_PARSE_FAILED', headers: JSON_TYPE, body: JSON.stringify({ query: '{ planTypes { ' }) },
  { name: 'enum value typo', status: 200, code: 'GRAPHQL_VALIDATION_FAILED', headers: JSON_TYPE, body: JSON.stringify({ query: '{ plans(filter: { status: [ACTIV] }) { edges { cursor } } }' }) },
  { name: 'page size 0', status: 200, code: 'BAD_USER_INPUT', headers: JSON_TYPE, body: JSON.stringify({ query: '{ plans(first: 0) { edges { cursor } } }' }) },
];

async function send(service: Service, token: string, probe: Probe): Promise<{ status: number; contentType: string; body: { errors?: { message: string; extensions?: Record<string, unknown> }[]; data?: unknown } | null; text: string }> {
  const url = new URL(service.url);
  for (const [k, v] of Object.entries(probe.search ?? {})) url.searchParams.set(k, v);
  const res = await fetch(url, { method: probe.method ?? 'POST', headers: { authorization: `Bearer ${token}`, ...probe.headers }, ...(probe.body !== undefined ? { body: probe.body } : {}) });
  const text = await res.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the assertion below names it
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body, text };
}

describe.each(['development', 'production'] as const)('client errors in %s (real server, real store)', (nodeEnv) => {
  let service: Service;
  let token: string;

  beforeAll(async () => {
    service = await startWithLogs(nodeEnv);
    token = await mintDevToken({ secret: TEST_JWT_SECRET, tenantId: 'errors', roles: ['plan-proposer', 'plan-approver'], sub: 'eve', ttlSeconds: 600 });
  });
  afterAll(async () => {
    await service.close();
  });

  it.each(PROBES.map((p) => [p.name, p] as const))('%s: JSON, a client code, logged as a client error, no stack trace', async (_name, probe) => {
    const before = service.logs.length;
    const res = await send(service, token, probe);
    expect({ status: res.status, json: res.contentType.startsWith('application/json'), code: res.body?.errors?.[0]?.extensions?.code }).toEqual({ status: probe.status, json: true, code: probe.code });
    expect(res.text).not.toMatch(/stacktrace|node_modules|\.[jt]s:\d+/);
    // Logged once as a client error with its code; nothing at error level.
    await new Promise((resolve) => setImmediate(resolve));
    const lines = service.logs.slice(before);
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(lines.filter((l) => l.outcome === probe.code).map((l) => l.level)).toEqual([30]);
  });

  it('registers and then serves a persisted query (the protocol works, only mistakes are refused)', async () => {
    const query = '{ planTypes { planType allowedStepActionTypes } }';
    const hash = sha256(query);
    const miss = await send(service, token, { name: 'miss', status: 200, code: '', headers: JSON_TYPE, body: persisted(1, hash) });
    expect(miss.body?.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const register = await send(service, token, { name: 'register', status: 200, code: '', headers: JSON_TYPE, body: persisted(1, hash, query) });
    expect(register.body?.errors).toBeUndefined();
    const hit = await send(service, token, { name: 'hit', status: 200, code: '', headers: JSON_TYPE, body: persisted(1, hash) });
    expect(hit.body).toEqual(register.body);
  });

  it('inflates a real gzip body', async () => {
    const res = await send(service, token, { name: 'gzip', status: 200, code: '', headers: { ...JSON_TYPE, 'content-encoding': 'gzip' }, body: new Uint8Array(gzipSync(JSON.stringify({ query: PLAN_TYPES }))) });
    expect(res.body).toEqual({ data: { planTypes: [{ planType: 'RENEWAL_DEFENSE' }] } });
  });

  it(nodeEnv === 'production' ? 'suggests no names at all, enum values included' : 'keeps suggestions for the developer', async () => {
    const typos = [
      { query: '{ planType { planType } }' },
      { query: '{ plans(filter: { status: [ACTIV] }) { edges { cursor } } }' },
      { query: 'query($s: [PlanStatus!]) { plans(filter: { status: $s }) { edges { cursor } } }', variables: { s: ['ACTIV'] } },
      { query: '{ plans(frist: 2) { edges { cursor } } }' },
      { query: '{ plans(filter: { acountId: "a" }) { edges { cursor } } }' },
    ];
    for (const typo of typos) {
      const res = await send(service, token, { name: 'typo', status: 400, code: '', headers: JSON_TYPE, body: JSON.stringify(typo) });
      expect(res.body?.errors?.[0]?.extensions?.code).toMatch(/^(GRAPHQL_VALIDATION_FAILED|BAD_USER_INPUT)$/);
      const message = res.body?.errors?.[0]?.message ?? '';
      if (nodeEnv === 'production') {
        expect(message).not.toMatch(/Did you mean|Suggestion/);
        expect(message).not.toMatch(/ACTIVE|planTypes|first|accountId/);
      } else {
        expect(message).toMatch(/Did you mean/);
      }
    }
  });
});

describe('DateTime refuses dates that do not exist (real server, real store)', () => {
  let service: Service;
  let token: string;

  beforeAll(async () => {
    service = await startWithLogs('production');
    token = await mintDevToken({ secret: TEST_JWT_SECRET, tenantId: 'dates', roles: ['plan-viewer'], sub: 'dora', ttlSeconds: 600 });
  });
  afterAll(async () => {
    await service.close();
  });

  const asLiteral = (value: string) => send(service, token, { name: 'literal', status: 0, code: '', headers: JSON_TYPE, body: JSON.stringify({ query: `{ planLedger(filter: { since: ${JSON.stringify(value)} }) { edges { cursor } } }` }) });
  const asVariable = (value: string) =>
    send(service, token, { name: 'variable', status: 0, code: '', headers: JSON_TYPE, body: JSON.stringify({ query: 'query($d: DateTime) { planLedger(filter: { since: $d }) { edges { cursor } } }', variables: { d: value } }) });

  it.each([
    ['February 30', '2027-02-30T00:00:00Z'],
    ['February 29 of a common year', '2027-02-29T10:00:00Z'],
    ['April 31', '2027-04-31T10:00:00+02:00'],
    ['month 13', '2027-13-01T10:00:00Z'],
    ['day 0', '2027-01-00T10:00:00Z'],
    ['hour 24', '2027-01-01T24:00:00Z'],
    ['minute 60', '2027-01-01T10:60:00Z'],
    ['second 60', '2027-01-01T10:00:60Z'],
    ['offset +24:00', '2027-01-01T10:00:00+24:00'],
    ['offset minutes 60', '2027-01-01T10:00:00+01:60'],
  ])('refuses %s in a literal and in a variable with BAD_USER_INPUT', async (_name, value) => {
    for (const res of [await asLiteral(value), await asVariable(value)]) {
      // A GraphQL request error: 200 as application/json (no Accept header), nothing executed.
      expect({ status: res.status, code: res.body?.errors?.[0]?.extensions?.code, data: res.body?.data }).toEqual({ status: 200, code: 'BAD_USER_INPUT', data: undefined });
      expect(res.body?.errors?.[0]?.message).toMatch(/not a real date/);
    }
  });

  it.each([
    ['February 29 of a leap year', '2028-02-29T10:00:00Z'],
    ['the last second of a year', '2026-12-31T23:59:59.999Z'],
    ['an offset of -12:30 across midnight', '2027-02-28T23:30:00-12:30'],
    ['no seconds', '2027-02-28T10:00Z'],
  ])('accepts %s', async (_name, value) => {
    for (const res of [await asLiteral(value), await asVariable(value)]) expect(res.body).toEqual({ data: { planLedger: { edges: [] } } });
  });
});
