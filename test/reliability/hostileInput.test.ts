import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  contractViolations,
  Figures,
  firstCode,
  postGql,
  PROPOSE,
  SIGNALS,
  startReliabilityServer,
  storeCounts,
  tokenFor,
  type ProposedPlan,
  type RawResponse,
  type ReliabilityServer,
} from '../support/reliability.js';
import { generateSigningKey } from '../../src/services/ledgerLog/checkpointSigner.js';

/**
 * Hostile input through GraphQL: oversized bodies, deep and wide queries, huge page sizes,
 * wrong types, MongoDB operator injection in JSON fields and ids, unicode, control characters,
 * NUL bytes and very long strings. Each answer is BAD_USER_INPUT or a limit error, never a 5xx
 * or INTERNAL_SERVER_ERROR; nothing is written; nothing executable is reflected.
 */

const MAX_BODY_BYTES = 128 * 1024;
const figures = new Figures('hostile input');

interface Case {
  name: string;
  query?: string;
  variables?: Record<string, unknown>;
  rawBody?: string;
  headers?: Record<string, string>;
  method?: string;
  /** Acceptable codes of the first error; omitted: any client code. */
  codes?: string[];
  /** Expected HTTP status, when it matters. */
  status?: number;
  /** The answer may be data (null plan, empty list) instead of an error. */
  dataOk?: boolean;
}

const SCRIPT = '<script>alert(document.cookie)</script>';

const nested = (depth: number, leaf: unknown): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = { k: v };
  return v;
};

function cyclicIntrospection(levels: number): string {
  let inner = 'name';
  for (let i = 0; i < levels; i++) inner = `fields { type { ${inner} } }`;
  return `{ __schema { types { ${inner} } } }`;
}

function introspectionDepth(levels: number): string {
  let inner = 'name';
  for (let i = 0; i < levels; i++) inner = `ofType { ${inner} }`;
  return `{ __schema { types { fields { type { ${inner} } } } } }`;
}

describe('reliability: hostile input through GraphQL', () => {
  let server: ReliabilityServer;
  let token: string;
  let draftId: string;
  let activeId: string;

  beforeAll(async () => {
    server = await startReliabilityServer({ MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
    token = await tokenFor('hostile', ['plan-proposer', 'plan-approver'], 'hal');
    const draft = await server.gql<{ proposePlan: ProposedPlan }>(PROPOSE, { input: { accountId: 'acct-h', planType: 'RENEWAL_DEFENSE', signals: SIGNALS } }, token);
    draftId = draft.data!.proposePlan.plan.planId;
    const active = await server.gql<{ proposePlan: ProposedPlan }>(PROPOSE, { input: { accountId: 'acct-h2', planType: 'RENEWAL_DEFENSE', signals: SIGNALS } }, token);
    activeId = active.data!.proposePlan.plan.planId;
    await server.gql('mutation($id: ID!) { approvePlan(planId: $id) { ok } }', { id: activeId }, token);
    await server.gql('mutation($id: ID!) { activatePlan(planId: $id, preconditionsMet: true) { ok } }', { id: activeId }, token);
  }, 60_000);

  afterAll(async () => {
    figures.print();
    await server?.close();
  }, 60_000);

  const proposeWith = (input: Record<string, unknown>): Omit<Case, 'name'> => ({
    query: PROPOSE,
    variables: { input: { accountId: 'acct-x', planType: 'RENEWAL_DEFENSE', ...input } },
    codes: ['BAD_USER_INPUT'],
  });
  const UPDATE = 'mutation($id: ID!, $input: UpdateDraftPlanInput!) { updateDraftPlan(planId: $id, input: $input) { ok reasons { code } } }';

  const cases = (): Case[] => [
    // Size and shape of the request itself.
    { name: 'body over MAX_BODY_BYTES', rawBody: JSON.stringify({ query: PROPOSE, variables: { input: { accountId: 'a', planType: 'RENEWAL_DEFENSE', posture: { pad: 'x'.repeat(MAX_BODY_BYTES) } } } }), status: 413, codes: ['BAD_USER_INPUT'] },
    { name: 'body of 5 MB', rawBody: `{"query":"{ planTypes { planType } }","pad":"${'y'.repeat(5_000_000)}"}`, status: 413, codes: ['BAD_USER_INPUT'] },
    { name: 'malformed JSON body', rawBody: '{"query": "{ planTypes { planType } }", ', status: 400, codes: ['BAD_USER_INPUT'] },
    { name: 'JSON body that is an array (batching is off)', rawBody: JSON.stringify([{ query: '{ planTypes { planType } }' }, { query: '{ planTypes { planType } }' }]) },
    { name: 'JSON body that is a string', rawBody: '"{ planTypes { planType } }"' },
    { name: 'JSON body null', rawBody: 'null' },
    { name: 'no query', rawBody: '{"variables":{}}' },
    { name: 'query is not a string', rawBody: '{"query":{"$ne":null}}' },
    { name: 'variables is a string', rawBody: JSON.stringify({ query: '{ planTypes { planType } }', variables: '{"a":1}' }) },
    { name: 'text/plain body (CSRF prevention)', rawBody: '{"query":"{ planTypes { planType } }"}', headers: { 'content-type': 'text/plain' } },
    { name: 'mutation over GET', method: 'GET', query: 'mutation { abortPlan(planId: "x", reason: "get") { ok } }', headers: { 'apollo-require-preflight': 'true' } },
    { name: 'query over GET without a preflight header (CSRF)', method: 'GET', query: '{ planTypes { planType } }', headers: { 'content-type': 'text/plain' } },
    { name: 'deeply nested JSON variable (30 000 arrays)', rawBody: `{"query":${JSON.stringify(PROPOSE)},"variables":{"input":{"accountId":"a","planType":"RENEWAL_DEFENSE","posture":{"x":${'['.repeat(30_000)}${']'.repeat(30_000)}}}}}`, codes: ['BAD_USER_INPUT'] },
    // Query limits.
    { name: 'cyclic introspection (fields of types of fields, 6 levels)', query: cyclicIntrospection(6), codes: ['GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT'] },
    { name: 'deep but acyclic introspection (14 ofType levels)', query: introspectionDepth(14), dataOk: true },
    { name: 'too many aliases', query: `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: planTypes { planType }`).join(' ')} }`, codes: ['GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT'] },
    { name: 'too many directives', query: `{ planTypes @include(if: true) ${'@skip(if: false) '.repeat(60)} { planType } }`, codes: ['GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT'] },
    { name: 'fragment cycle', query: '{ plans { ...A } } fragment A on PlanConnection { ...B } fragment B on PlanConnection { ...A }', codes: ['GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT'] },
    { name: 'unknown field', query: '{ plans { secret } }', codes: ['GRAPHQL_VALIDATION_FAILED'] },
    { name: 'expensive fan-out (cost limit)', query: '{ plans(first: 500) { edges { node { ledger(first: 500) { edges { node { data } } } steps { constraints } } } } }', codes: ['GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT'], dataOk: true },
    // Page sizes and cursors.
    { name: 'huge first', query: '{ plans(first: 100000) { edges { cursor } } }', codes: ['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED'] },
    { name: 'huge first as a variable', query: 'query($n: Int) { plans(first: $n) { edges { cursor } } }', variables: { n: 100_000 }, codes: ['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED'] },
    { name: 'first beyond Int', query: '{ plans(first: 99999999999) { edges { cursor } } }', codes: ['GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT'] },
    { name: 'first beyond Int as a variable', query: 'query($n: Int) { plans(first: $n) { edges { cursor } } }', variables: { n: 2 ** 40 }, codes: ['BAD_USER_INPUT'] },
    { name: 'negative first', query: '{ planLedger(first: -1) { edges { cursor } } }', codes: ['BAD_USER_INPUT'] },
    { name: 'zero first', query: '{ plans(first: 0) { edges { cursor } } }', codes: ['BAD_USER_INPUT'] },
    { name: 'huge ledger page on a plan', query: 'query($id: ID!) { plan(planId: $id) { ledger(first: 1000000) { edges { cursor } } } }', variables: { id: 'x' }, codes: ['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED'], dataOk: true },
    { name: 'forged cursor', query: 'query($a: String) { plans(after: $a) { edges { cursor } } }', variables: { a: Buffer.from('{"k":"plans","t":{"$gt":0},"id":{"$ne":null}}').toString('base64url') }, codes: ['BAD_USER_INPUT'] },
    { name: 'cursor with a script', query: 'query($a: String) { planLedger(after: $a) { edges { cursor } } }', variables: { a: SCRIPT }, codes: ['BAD_USER_INPUT'] },
    { name: 'very long cursor', query: 'query($a: String) { plans(after: $a) { edges { cursor } } }', variables: { a: 'A'.repeat(50_000) }, codes: ['BAD_USER_INPUT'] },
    // Wrong types.
    { name: 'planId as an object', query: 'query($id: ID!) { plan(planId: $id) { planId } }', variables: { id: { $ne: null } }, codes: ['BAD_USER_INPUT'] },
    { name: 'planId as an array', query: 'query($id: ID!) { plan(planId: $id) { planId } }', variables: { id: ['a', 'b'] }, codes: ['BAD_USER_INPUT'] },
    { name: 'planId as a float', query: 'query($id: ID!) { plan(planId: $id) { planId } }', variables: { id: 1.5 }, codes: ['BAD_USER_INPUT'] },
    { name: 'preconditionsMet as a string', query: 'mutation($id: ID!, $p: Boolean!) { activatePlan(planId: $id, preconditionsMet: $p) { ok } }', variables: { id: activeId, p: 'yes' }, codes: ['BAD_USER_INPUT'] },
    { name: 'unknown planType', ...proposeWith({ planType: 'UPSELL' }) },
    { name: 'posture as a string', ...proposeWith({ posture: 'AT_RISK' }) },
    { name: 'posture as an array', ...proposeWith({ posture: [1, 2] }) },
    { name: 'status filter with an unknown value', query: 'query($f: PlanFilter) { plans(filter: $f) { edges { cursor } } }', variables: { f: { status: ['DRAFT', 'HACKED'] } }, codes: ['BAD_USER_INPUT'] },
    { name: 'expiresAt not a date', query: UPDATE, variables: { id: draftId, input: { expiresAt: 'tomorrow' } }, codes: ['BAD_USER_INPUT'] },
    { name: 'expiresAt in the past', query: UPDATE, variables: { id: draftId, input: { expiresAt: '2001-01-01T00:00:00Z' } }, codes: ['BAD_USER_INPUT'] },
    { name: 'expiresAt year 275760+', query: UPDATE, variables: { id: draftId, input: { expiresAt: '+275761-01-01T00:00:00Z' } }, codes: ['BAD_USER_INPUT'] },
    { name: 'since after until', query: 'query($f: LedgerFilter) { planLedger(filter: $f) { edges { cursor } } }', variables: { f: { since: '2030-01-01T00:00:00Z', until: '2020-01-01T00:00:00Z' } }, codes: ['BAD_USER_INPUT'] },
    { name: 'dependsOn out of range', query: UPDATE, variables: { id: draftId, input: { steps: [{ actionType: 'PREP_RENEWAL_BRIEF', dependsOn: [2 ** 31 - 1] }] } }, codes: ['BAD_USER_INPUT'] },
    { name: 'dependsOn negative', query: UPDATE, variables: { id: draftId, input: { steps: [{ actionType: 'PREP_RENEWAL_BRIEF', dependsOn: [-1] }] } }, codes: ['BAD_USER_INPUT'] },
    { name: '1000 steps', query: UPDATE, variables: { id: draftId, input: { steps: Array.from({ length: 1000 }, () => ({ actionType: 'PREP_RENEWAL_BRIEF' })) } }, codes: ['BAD_USER_INPUT'] },
    { name: 'empty update', query: UPDATE, variables: { id: draftId, input: {} }, codes: ['BAD_USER_INPUT'] },
    // Operator injection.
    { name: 'posture {"$gt": ""}', ...proposeWith({ posture: { $gt: '' } }) },
    { name: 'posture with $where', ...proposeWith({ posture: { $where: 'sleep(5000) || true' } }) },
    { name: 'signal with a dotted key', ...proposeWith({ signals: [{ type: 'USAGE_DROP', 'percent.$gt': 1 }] }) },
    { name: 'nested $ne in a signal', ...proposeWith({ signals: [{ type: 'SUPPORT_RISK', severity: { $ne: null } }] }) },
    { name: '$set in tenantGoals', ...proposeWith({ tenantGoals: { $set: { plan_status: 'APPROVED' } } }) },
    { name: '$ key deep inside history', ...proposeWith({ history: [nested(8, { $where: '1' })] }) },
    { name: 'empty key', ...proposeWith({ posture: { '': 1 } }) },
    { name: 'NUL in a key', ...proposeWith({ posture: { 'a\u0000b': 1 } }) },
    { name: 'key of 10 000 characters', ...proposeWith({ posture: { ['k'.repeat(10_000)]: 1 } }) },
    { name: 'JSON nested 50 levels', ...proposeWith({ posture: nested(50, 1) }) },
    { name: 'JSON literal nested 12 levels in the query text', codes: ['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED'], query: 'mutation { proposePlan(input: { accountId: "a", planType: RENEWAL_DEFENSE, posture: { _: 1, nested: { b: 2 } }, signals: [{ type: "X", where: { lt: 1 } }] , tenantGoals: { a: { b: { c: { d: { e: { f: { g: { h: { i: { j: { k: { l: 1 } } } } } } } } } } } } }) { proposalId } }' },
    { name: 'updateDraftPlan constraints with $inc', query: UPDATE, variables: { id: draftId, input: { constraints: { $inc: { event_count: 1 } } } }, codes: ['BAD_USER_INPUT'] },
    { name: 'step constraints with a dotted key', query: UPDATE, variables: { id: draftId, input: { steps: [{ actionType: 'PREP_RENEWAL_BRIEF', constraints: { 'pending_event.entry_id': 'x' } }] } }, codes: ['BAD_USER_INPUT'] },
    { name: 'accountId {"$gt":""} as an object', ...proposeWith({ accountId: { $gt: '' } }) },
    { name: 'plan id {"$ne":null} as a string', query: 'mutation($id: ID!) { approvePlan(planId: $id) { ok } }', variables: { id: '{"$ne":null}' }, codes: ['NOT_FOUND', 'BAD_USER_INPUT'] },
    { name: 'plan id with $where text', query: 'query($id: ID!) { verifyPlanLedger(planId: $id) { valid } }', variables: { id: "'; return true; var x='" }, codes: ['NOT_FOUND', 'BAD_USER_INPUT'] },
    { name: 'plan id with a regex', query: 'mutation($id: ID!) { abortPlan(planId: $id, reason: "x") { ok } }', variables: { id: '/.*/' }, codes: ['NOT_FOUND', 'BAD_USER_INPUT'] },
    { name: 'filter accountId as an operator object', query: 'query($f: PlanFilter) { plans(filter: $f) { edges { cursor } } }', variables: { f: { accountId: { $ne: null } } }, codes: ['BAD_USER_INPUT'] },
    { name: 'ledger filter planId as an operator object', query: 'query($f: LedgerFilter) { planLedger(filter: $f) { edges { cursor } } }', variables: { f: { planId: { $regex: '.*' } } }, codes: ['BAD_USER_INPUT'] },
    // Unicode, control characters, NUL, length.
    { name: 'accountId with an emoji', ...proposeWith({ accountId: 'acct-😈' }) },
    { name: 'accountId with a NUL byte', ...proposeWith({ accountId: 'acct\u0000x' }) },
    { name: 'accountId with RTL override', ...proposeWith({ accountId: 'acct\u202egnp.exe' }) },
    { name: 'accountId of 10 000 characters', ...proposeWith({ accountId: 'a'.repeat(10_000) }) },
    { name: 'accountId empty', ...proposeWith({ accountId: '' }) },
    { name: 'idempotencyKey of 50 000 characters', ...proposeWith({ idempotencyKey: 'k'.repeat(50_000) }) },
    { name: 'idempotencyKey with a newline', ...proposeWith({ idempotencyKey: 'a\nb' }) },
    { name: 'tenantId of another tenant', ...proposeWith({ tenantId: 'someone-else' }), codes: ['FORBIDDEN'] },
    { name: 'tenantId with a NUL', ...proposeWith({ tenantId: 'hostile\u0000' }), codes: ['BAD_USER_INPUT', 'FORBIDDEN'] },
    { name: '201 signals', ...proposeWith({ signals: Array.from({ length: 201 }, () => ({ type: 'CHAMPION_LEFT' })) }) },
    { name: 'context JSON over 64 KB', ...proposeWith({ signals: [{ type: 'NOTE', text: 'z'.repeat(60_000) }], history: [{ text: 'z'.repeat(10_000) }] }) },
    { name: 'objective with control characters', query: UPDATE, variables: { id: draftId, input: { objective: 'Renew\u0007\u001b[31m now' } }, codes: ['BAD_USER_INPUT'] },
    { name: 'objective with a NUL', query: UPDATE, variables: { id: draftId, input: { objective: 'Renew\u0000' } }, codes: ['BAD_USER_INPUT'] },
    { name: 'objective of 501 characters', query: UPDATE, variables: { id: draftId, input: { objective: 'o'.repeat(501) } }, codes: ['BAD_USER_INPUT'] },
    { name: 'blank objective', query: UPDATE, variables: { id: draftId, input: { objective: '   \n\t ' } }, codes: ['BAD_USER_INPUT'] },
    { name: 'actionType of 10 000 characters', query: UPDATE, variables: { id: draftId, input: { steps: [{ actionType: 'A'.repeat(10_000) }] } }, codes: ['BAD_USER_INPUT'] },
    { name: 'abort reason of 100 000 characters', query: 'mutation($id: ID!, $r: String!) { abortPlan(planId: $id, reason: $r) { ok } }', variables: { id: activeId, r: 'r'.repeat(60_000) }, codes: ['BAD_USER_INPUT'] },
    { name: 'abort reason blank', query: 'mutation($id: ID!, $r: String!) { abortPlan(planId: $id, reason: $r) { ok } }', variables: { id: activeId, r: '  ' }, codes: ['BAD_USER_INPUT'] },
    { name: 'pause reason with control characters', query: 'mutation($id: ID!, $r: String) { pausePlan(planId: $id, reason: $r) { ok } }', variables: { id: activeId, r: 'x\u0000\u0008' }, codes: ['BAD_USER_INPUT'] },
    { name: 'lone surrogate in a plan id', query: 'query($id: ID!) { plan(planId: $id) { planId } }', rawBody: '{"query":"query($id: ID!) { plan(planId: $id) { planId } }","variables":{"id":"\\ud800"}}', codes: ['BAD_USER_INPUT', 'NOT_FOUND'], dataOk: true },
    { name: 'script in a plan id', query: 'mutation($id: ID!) { approvePlan(planId: $id) { ok } }', variables: { id: SCRIPT }, codes: ['NOT_FOUND', 'BAD_USER_INPUT'] },
    { name: 'number 1e400 in JSON', rawBody: `{"query":${JSON.stringify(PROPOSE)},"variables":{"input":{"accountId":"a","planType":"RENEWAL_DEFENSE","posture":{"arr":1e400}}}}`, codes: ['BAD_USER_INPUT'] },
    { name: 'prototype keys in JSON', rawBody: `{"query":${JSON.stringify(PROPOSE)},"variables":{"input":{"accountId":"a","planType":"RENEWAL_DEFENSE","tenantId":"x","posture":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}}}}`, codes: ['FORBIDDEN', 'BAD_USER_INPUT'] },
  ];

  it(
    'answers every hostile request with a client error (never 5xx or INTERNAL_SERVER_ERROR), writes nothing, and reflects nothing executable',
    async () => {
      const all = cases();
      const outcomes: string[] = [];
      const failures: string[] = [];
      for (const c of all) {
        const before = await storeCounts(server.db);
        const res: RawResponse = await postGql(server.url, c.query ?? '', c.variables ?? {}, {
          token,
          ...(c.rawBody !== undefined ? { rawBody: c.rawBody } : {}),
          ...(c.headers ? { headers: c.headers } : {}),
          ...(c.method ? { method: c.method } : {}),
        });
        figures.add('hostile inputs tried');
        const code = firstCode(res);
        outcomes.push(`${c.name}: ${res.status} ${code ?? (res.data ? 'data' : '-')}`);
        figures.tally('outcome', `${res.status} ${code ?? 'data'}`);
        const problems = contractViolations(res);
        if (res.status === 0) problems.push('no answer');
        if (c.status !== undefined && res.status !== c.status) problems.push(`status ${res.status}, expected ${c.status}`);
        if (!res.errors?.length && !(c.dataOk && res.data)) {
          if (res.status < 400) problems.push(`accepted: ${res.text.slice(0, 200)}`);
        }
        if (res.errors?.length && c.codes && !c.codes.includes(code ?? '')) problems.push(`code ${code}, expected one of ${c.codes.join('|')}: ${res.errors[0]?.message.slice(0, 200)}`);
        const errorText = (res.errors ?? []).map((e) => e.message).join(' ');
        if (/<script/i.test(errorText)) problems.push(`reflects a script tag in an error message: ${errorText.slice(0, 300)}`);
        const after = await storeCounts(server.db);
        if (after.plans !== before.plans || after.ledger !== before.ledger) problems.push(`wrote: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`);
        if (problems.length) failures.push(`${c.name}: ${problems.join('; ')}`);
      }
      figures.add('hostile inputs with a wrong answer', failures.length);
      console.log(`hostile input outcomes:\n  ${outcomes.join('\n  ')}`);
      expect(failures).toEqual([]);
      // No prototype pollution leaked into this process's objects (the server runs here).
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      // The seeded plans are untouched.
      const draft = await server.db.collection('plans').findOne({ _id: draftId } as never);
      expect(draft?.plan_status).toBe('DRAFT');
      expect(await server.db.collection('plan_ledger').countDocuments({ plan_id: draftId })).toBe(1);
      expect(await server.db.collection('plan_ledger').countDocuments({ plan_id: activeId })).toBe(3);
    },
    120_000,
  );

  // Kept apart from the table above: these fail today (see the reliability report) and name the bug.
  it(
    'answers a syntax error and a query over the token limit with a client error (HTTP 400 as graphql-response+json), not 500',
    async () => {
      const results: string[] = [];
      for (const [name, query] of [
        ['syntax error', '{ plans { edges { '],
        ['too many tokens', `{ planTypes { ${'planType '.repeat(3000)} } }`],
      ] as const) {
        // As application/graphql-response+json a request error has a 4xx status (as application/json, 200).
        const res = await server.gql(query, {}, token, { headers: { accept: 'application/graphql-response+json' } });
        figures.add('hostile inputs tried');
        figures.tally('outcome', `${res.status} ${firstCode(res) ?? 'data'}`);
        results.push(`${name}: ${res.status} ${['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT'].includes(firstCode(res) ?? '') ? 'client code' : String(firstCode(res))}`);
      }
      expect(results).toEqual(['syntax error: 400 client code', 'too many tokens: 400 client code']);
    },
    30_000,
  );

  it(
    'does not reflect markup from input values in error messages',
    async () => {
      const res = await server.gql(PROPOSE, { input: { accountId: 'acct-x', planType: SCRIPT } }, token);
      figures.add('hostile inputs tried');
      expect(firstCode(res)).toBe('BAD_USER_INPUT');
      expect(res.errors?.map((e) => e.message).join(' ')).not.toMatch(/<script/i);
    },
    30_000,
  );

  it(
    'applies the cost limit to page sizes given as variables, as it does to literals',
    async () => {
      const nestedQuery = (first: string) => `{ plans(first: ${first}) { edges { node { planId ledger(first: ${first}) { edges { node { data } } } } } } }`;
      const literal = await server.gql(nestedQuery('500'), {}, token);
      const variable = await server.gql(`query($n: Int) ${nestedQuery('$n')}`, { n: 500 }, token);
      figures.add('hostile inputs tried', 2);
      figures.set('nested 500 x 500 page, literal first', `${literal.status} ${firstCode(literal) ?? 'data'}`);
      figures.set('nested 500 x 500 page, first as a variable', `${variable.status} ${firstCode(variable) ?? 'data'}`);
      expect(contractViolations(variable)).toEqual([]);
      expect(firstCode(literal)).toBeDefined();
      // Today the variable form runs (up to 500 plans x 500 ledger entries in one request).
      expect(firstCode(variable)).toBe(firstCode(literal));
    },
    30_000,
  );

  it(
    'treats id-shaped operator strings as plain values: they match only themselves',
    async () => {
      // Valid input: printable ids that look like operators are just ids.
      const weird = ['{"$gt":""}', '{"$ne":null}', '$where', 'a.b.c', "x'||'1'=='1", SCRIPT.replace(/ /g, '')];
      const made: string[] = [];
      for (const accountId of weird) {
        const res = await server.gql<{ proposePlan: ProposedPlan }>(PROPOSE, { input: { accountId, planType: 'RENEWAL_DEFENSE', signals: SIGNALS } }, token);
        expect(contractViolations(res)).toEqual([]);
        expect(res.data?.proposePlan.plan.accountId).toBe(accountId);
        made.push(res.data!.proposePlan.plan.planId);
        figures.add('operator-shaped ids stored as plain strings');
      }
      for (const [i, accountId] of weird.entries()) {
        const list = await server.gql<{ plans: { edges: { node: { planId: string; accountId: string } }[] } }>(
          'query($f: PlanFilter) { plans(filter: $f, first: 50) { edges { node { planId accountId } } } }',
          { f: { accountId } },
          token,
        );
        expect(list.data?.plans.edges.map((e) => e.node.planId)).toEqual([made[i]]);
        const feed = await server.gql<{ planLedger: { edges: { node: { planId: string } }[] } }>(
          'query($f: LedgerFilter) { planLedger(filter: $f) { edges { node { planId } } } }',
          { f: { accountId } },
          token,
        );
        expect(feed.data?.planLedger.edges.map((e) => e.node.planId)).toEqual([made[i]]);
      }
      const missing = await server.gql('query($id: ID!) { plan(planId: $id) { planId } }', { id: '{"$ne":null}' }, token);
      expect(missing.data?.plan).toBeNull();
    },
    60_000,
  );

  it(
    'in production mode refuses introspection and field suggestions, and sends no stack traces',
    async () => {
      // Production also needs the ledger's signing key (docs/ledger.md) and the webhook secrets' key (docs/webhooks.md).
      const prod = await startReliabilityServer({ NODE_ENV: 'production', LEDGER_SIGNING_KEY: generateSigningKey(), WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64') });
      try {
        const intro = await prod.gql('{ __schema { types { name } } }', {}, token);
        figures.add('hostile inputs tried');
        expect(contractViolations(intro)).toEqual([]);
        expect(firstCode(intro)).toBe('GRAPHQL_VALIDATION_FAILED');
        const suggest = await prod.gql('{ plan(planId: "x") { planI } }', {}, token);
        figures.add('hostile inputs tried');
        expect(firstCode(suggest)).toBe('GRAPHQL_VALIDATION_FAILED');
        expect(suggest.text).not.toMatch(/Did you mean/);
        const bad = await prod.gql('{ plans(first: -1) { edges { cursor } } }', {}, token);
        expect(bad.text).not.toMatch(/stacktrace|\.ts:\d+/);
      } finally {
        await prod.close();
      }
    },
    60_000,
  );

  it(
    'keeps unicode and odd but legal text intact (round trip), without errors',
    async () => {
      const posture = { note: 'Zoë 東京 😀 \u202e RTL', health: 'AT_RISK', nul: 'a\u0000b', html: SCRIPT };
      const res = await server.gql<{ proposePlan: ProposedPlan }>(PROPOSE, { input: { accountId: 'acct-unicode', planType: 'RENEWAL_DEFENSE', posture, signals: SIGNALS } }, token);
      figures.add('legal unicode / NUL inputs tried');
      expect(contractViolations(res)).toEqual([]);
      const code = firstCode(res);
      figures.set('NUL byte inside a JSON string value', code ?? 'accepted');
      expect([undefined, 'BAD_USER_INPUT']).toContain(code);
      if (!code) {
        const planId = res.data!.proposePlan.plan.planId;
        const verify = await server.gql<{ verifyPlanLedger: { valid: boolean } }>('query($id: ID!) { verifyPlanLedger(planId: $id) { valid } }', { id: planId }, token);
        expect(verify.data?.verifyPlanLedger.valid).toBe(true);
      }
    },
    30_000,
  );
});
