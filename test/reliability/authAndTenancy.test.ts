import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  contractViolations,
  Figures,
  firstCode,
  LEAK_PATTERN,
  PROPOSE,
  signToken,
  SIGNALS,
  startReliabilityServer,
  storeCounts,
  TEST_JWT_SECRET,
  TRANSITIONS,
  type ProposedPlan,
  type RawResponse,
  type ReliabilityServer,
  type TransitionResult,
} from '../support/reliability.js';

/**
 * Auth and tenant isolation. The server checks issuer and audience. Every bad token is
 * UNAUTHENTICATED, a token without a useful role FORBIDDEN, and nothing is written either way.
 * Another tenant's ids read as absent (null / NOT_FOUND / empty) through every query and
 * mutation, and the victim's documents stay byte-for-byte the same.
 */

const ISSUER = 'https://issuer.reliability.test';
const AUDIENCE = 'renewal-defense-reliability';
const figures = new Figures('auth and tenancy');

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

describe('reliability: auth and cross-tenant isolation', () => {
  let server: ReliabilityServer;
  const good = (claims: Record<string, unknown> = {}, options: Parameters<typeof signToken>[1] = {}) =>
    signToken({ sub: 'mallory', tenant_id: 'victim', roles: ['plan-proposer', 'plan-approver'], iss: ISSUER, aud: AUDIENCE, ...claims }, options);

  beforeAll(async () => {
    server = await startReliabilityServer({ JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE });
  }, 60_000);

  afterAll(async () => {
    figures.print();
    await server?.close();
  }, 60_000);

  const OPS: [string, string, (id: string) => Record<string, unknown>][] = [
    ['plans', '{ plans { edges { node { planId } } } }', () => ({})],
    ['proposePlan', PROPOSE, () => ({ input: { accountId: 'acct-auth', planType: 'RENEWAL_DEFENSE', signals: SIGNALS } })],
    ['approvePlan', TRANSITIONS.approve, (id) => ({ planId: id })],
    ['verifyPlanLedger', 'query($id: ID!) { verifyPlanLedger(planId: $id) { valid } }', (id) => ({ id })],
  ];

  it(
    'refuses every bad token with UNAUTHENTICATED and every roleless one with FORBIDDEN, writing nothing',
    async () => {
      const owner = await good({ sub: 'olivia' });
      const seeded = await server.gql<{ proposePlan: ProposedPlan }>(PROPOSE, { input: { accountId: 'acct-auth', planType: 'RENEWAL_DEFENSE', signals: SIGNALS } }, owner);
      expect(seeded.errors).toBeUndefined();
      const planId = seeded.data!.proposePlan.plan.planId;

      const now = Math.floor(Date.now() / 1000);
      const [hHeader, hPayload] = (await good()).split('.');
      const forgedPayload = b64url({ sub: 'mallory', tenant_id: 'victim', roles: ['plan-approver'], iss: ISSUER, aud: AUDIENCE, exp: now + 600 });
      const tokens: [string, string | null, string, Record<string, string>?][] = [
        ['no token', null, 'UNAUTHENTICATED'],
        ['expired', await good({ exp: now - 60 }, { expSeconds: null }), 'UNAUTHENTICATED'],
        ['not yet valid (nbf in the future)', await good({ nbf: now + 3600 }), 'UNAUTHENTICATED'],
        ['wrong signature (other secret)', await good({}, { secret: 'another-secret-0123456789abcdef0123456789' }), 'UNAUTHENTICATED'],
        ['payload swapped under a valid signature', `${hHeader}.${forgedPayload}.${(await good()).split('.')[2]}`, 'UNAUTHENTICATED'],
        ['alg none', `${b64url({ alg: 'none', typ: 'JWT' })}.${forgedPayload}.`, 'UNAUTHENTICATED'],
        ['alg none with a signature', `${b64url({ alg: 'none', typ: 'JWT' })}.${forgedPayload}.${b64url('sig')}`, 'UNAUTHENTICATED'],
        ['alg HS512 with the right secret', await good({}, { alg: 'HS512' }), 'UNAUTHENTICATED'],
        ['wrong issuer', await good({ iss: 'https://evil.test' }), 'UNAUTHENTICATED'],
        ['no issuer', await good({ iss: undefined }), 'UNAUTHENTICATED'],
        ['wrong audience', await good({ aud: 'some-other-api' }), 'UNAUTHENTICATED'],
        ['no audience', await good({ aud: undefined }), 'UNAUTHENTICATED'],
        ['missing tenant claim', await good({ tenant_id: undefined }), 'UNAUTHENTICATED'],
        ['empty tenant claim', await good({ tenant_id: '' }), 'UNAUTHENTICATED'],
        ['tenant claim as an object', await good({ tenant_id: { $ne: null } }), 'UNAUTHENTICATED'],
        ['tenant claim with a NUL', await good({ tenant_id: 'victim\u0000' }), 'UNAUTHENTICATED'],
        ['missing sub', await good({ sub: undefined }), 'UNAUTHENTICATED'],
        ['missing exp', await good({}, { expSeconds: null }), 'UNAUTHENTICATED'],
        ['roles as a string', await good({ roles: 'plan-approver' }), 'UNAUTHENTICATED'],
        ['header payload truncated', `${hHeader}.${hPayload}`, 'UNAUTHENTICATED'],
        ['garbage token', 'abc.def.ghi', 'UNAUTHENTICATED'],
        ['Basic scheme', 'x', 'UNAUTHENTICATED', { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` }],
        ['Bearer without a token', 'x', 'UNAUTHENTICATED', { authorization: 'Bearer ' }],
        ['two tokens', 'x', 'UNAUTHENTICATED', { authorization: `Bearer ${owner} ${owner}` }],
        ['unknown roles only', await good({ roles: ['admin', 'root', 'PLAN-APPROVER'] }), 'FORBIDDEN'],
        ['no roles', await good({ roles: [] }), 'FORBIDDEN'],
      ];
      const failures: string[] = [];
      for (const [name, token, expected, headers] of tokens) {
        for (const [op, query, vars] of OPS) {
          const before = await storeCounts(server.db);
          const res: RawResponse = await server.gql(query, vars(planId), headers ? null : token, headers ? { headers } : {});
          figures.add('bad-token requests');
          figures.tally('bad-token outcome', String(firstCode(res)));
          const after = await storeCounts(server.db);
          const problems = contractViolations(res);
          if (firstCode(res) !== expected) problems.push(`${firstCode(res)} (expected ${expected}): ${res.text.slice(0, 200)}`);
          if (res.data && Object.values(res.data).some((v) => v !== null)) problems.push(`returned data ${res.text.slice(0, 200)}`);
          if (before.plans !== after.plans || before.ledger !== after.ledger) problems.push('wrote to the store');
          if (LEAK_PATTERN.test(res.errors?.map((e) => e.message).join(' ') ?? '') || res.text.includes(TEST_JWT_SECRET)) problems.push(`leaks: ${res.text.slice(0, 200)}`);
          if (problems.length) failures.push(`${name} / ${op}: ${problems.join('; ')}`);
        }
      }
      // A viewer cannot write.
      const viewer = await good({ roles: ['plan-viewer'] });
      for (const [op, query, vars] of OPS.slice(1, 3)) {
        const res = await server.gql(query, vars(planId), viewer);
        if (firstCode(res) !== 'FORBIDDEN') failures.push(`viewer / ${op}: ${firstCode(res)}`);
      }
      // A very large token: a 4xx from the HTTP layer, not a crash.
      const huge = await server.gql('{ plans { edges { cursor } } }', {}, 'a'.repeat(100_000));
      figures.set('100 KB token', `HTTP ${huge.status}`);
      expect(huge.status).toBeGreaterThanOrEqual(400);
      expect(huge.status).toBeLessThan(500);
      figures.add('bad-token requests with a wrong answer', failures.length);
      expect(failures).toEqual([]);
      // The good token still works, and the plan is untouched.
      const ok = await server.gql<{ plan: { status: string } }>('query($id: ID!) { plan(planId: $id) { status } }', { id: planId }, owner);
      expect(ok.data?.plan.status).toBe('DRAFT');
    },
    60_000,
  );

  it(
    "cannot see or change another tenant's plans through any query or mutation",
    async () => {
      const victim = await good({ sub: 'victor', tenant_id: 'victim-co' });
      const attacker = await good({ sub: 'mallory', tenant_id: 'attacker-co' });
      const mk = async (accountId: string, key: string) => {
        const r = await server.gql<{ proposePlan: ProposedPlan }>(PROPOSE, { input: { accountId, planType: 'RENEWAL_DEFENSE', signals: SIGNALS, idempotencyKey: key } }, victim);
        expect(r.errors).toBeUndefined();
        return r.data!.proposePlan.plan.planId;
      };
      const tx = (name: keyof typeof TRANSITIONS, id: string, token: string) => server.gql<{ r: TransitionResult }>(TRANSITIONS[name], { planId: id }, token);
      const draft = await mk('shared-acct', 'victim-key-1');
      const approved = await mk('shared-acct-2', 'victim-key-2');
      await tx('approve', approved, victim);
      const active = await mk('shared-acct', 'victim-key-3');
      await tx('approve', active, victim);
      expect((await tx('activate', active, victim)).data?.r?.ok).toBe(true);
      const paused = await mk('shared-acct-3', 'victim-key-4');
      await tx('approve', paused, victim);
      await tx('activate', paused, victim);
      await tx('pause', paused, victim);
      const victimIds = [draft, approved, active, paused];
      const victimCursor = (await server.gql<{ plans: { pageInfo: { endCursor: string } } }>('{ plans(first: 1) { pageInfo { endCursor } } }', {}, victim)).data!.plans.pageInfo.endCursor;
      const victimFeedCursor = (await server.gql<{ planLedger: { pageInfo: { endCursor: string } } }>('{ planLedger(first: 1) { pageInfo { endCursor } } }', {}, victim)).data!.planLedger.pageInfo.endCursor;

      const snapshot = async () => ({
        // Without the tally mark: the counts job clears it in the background (docs/store.md, "Kept counts").
        plans: await server.db.collection('plans').find({ tenant_id: 'victim-co' }, { projection: { tally_mark: 0 } }).sort({ _id: 1 }).toArray(),
        ledger: await server.db.collection('plan_ledger').find({ tenant_id: 'victim-co' }).sort({ _id: 1 }).toArray(),
      });
      const before = await snapshot();

      const failures: string[] = [];
      const expectAbsent = (what: string, res: RawResponse, isAbsent: (data: Record<string, unknown>) => boolean) => {
        figures.add('cross-tenant attempts');
        const problems = contractViolations(res);
        const code = firstCode(res);
        if (code && code !== 'NOT_FOUND' && code !== 'BAD_USER_INPUT') problems.push(`code ${code}`);
        if (!code && !(res.data && isAbsent(res.data))) problems.push(`saw something: ${res.text.slice(0, 300)}`);
        if (res.text.includes('victor') || res.text.includes('shared-acct')) problems.push('leaked victim data');
        figures.tally('cross-tenant outcome', code ?? 'null/empty');
        if (problems.length) failures.push(`${what}: ${problems.join('; ')}`);
      };
      const edgesEmpty = (key: string) => (d: Record<string, unknown>) => (d[key] as { edges: unknown[] }).edges.length === 0;

      for (const id of victimIds) {
        expectAbsent(`plan ${id}`, await server.gql('query($id: ID!) { plan(planId: $id) { planId objective ledger { edges { node { data } } } } }', { id }, attacker), (d) => d.plan === null);
        expectAbsent(`verifyPlanLedger ${id}`, await server.gql('query($id: ID!) { verifyPlanLedger(planId: $id) { valid entries } }', { id }, attacker), () => false);
        expectAbsent(`planActivationCheck ${id}`, await server.gql('query($id: ID!) { planActivationCheck(planId: $id, preconditionsMet: true) { canActivate reasons { code } } }', { id }, attacker), () => false);
        expectAbsent(`planLedger(planId) ${id}`, await server.gql('query($f: LedgerFilter) { planLedger(filter: $f) { edges { node { data } } } }', { f: { planId: id } }, attacker), edgesEmpty('planLedger'));
        expectAbsent(`ledgerStats(planId) ${id}`, await server.gql('query($f: LedgerFilter) { ledgerStats(filter: $f) { count } }', { f: { planId: id } }, attacker), (d) => (d.ledgerStats as unknown[]).length === 0);
        for (const name of Object.keys(TRANSITIONS) as (keyof typeof TRANSITIONS)[]) {
          expectAbsent(`${name} ${id}`, await tx(name, id, attacker), () => false);
        }
        expectAbsent(`updateDraftPlan ${id}`, await server.gql('mutation($id: ID!) { updateDraftPlan(planId: $id, input: { objective: "hijacked", steps: [{ actionType: "PREP_RENEWAL_BRIEF" }] }) { ok } }', { id }, attacker), () => false);
      }
      for (const accountId of ['shared-acct', 'shared-acct-2', 'shared-acct-3']) {
        expectAbsent(`plans(accountId) ${accountId}`, await server.gql('query($f: PlanFilter) { plans(filter: $f) { edges { node { planId } } } }', { f: { accountId } }, attacker), edgesEmpty('plans'));
        expectAbsent(`planLedger(accountId) ${accountId}`, await server.gql('query($f: LedgerFilter) { planLedger(filter: $f) { edges { node { planId } } } }', { f: { accountId } }, attacker), edgesEmpty('planLedger'));
      }
      expectAbsent('plans with the victim cursor', await server.gql('query($a: String) { plans(after: $a) { edges { node { planId } } } }', { a: victimCursor }, attacker), edgesEmpty('plans'));
      expectAbsent('planLedger with the victim cursor', await server.gql('query($a: String) { planLedger(after: $a) { edges { node { planId } } } }', { a: victimFeedCursor }, attacker), edgesEmpty('planLedger'));
      expectAbsent('ledgerStats', await server.gql('{ ledgerStats { count } }', {}, attacker), (d) => (d.ledgerStats as unknown[]).length === 0);

      // proposePlan cannot target the victim: their tenant is FORBIDDEN, their idempotency key is the attacker's own.
      const forbidden = await server.gql(PROPOSE, { input: { accountId: 'shared-acct', planType: 'RENEWAL_DEFENSE', tenantId: 'victim-co' } }, attacker);
      figures.add('cross-tenant attempts');
      expect(firstCode(forbidden)).toBe('FORBIDDEN');
      const sameKey = await server.gql<{ proposePlan: ProposedPlan }>(PROPOSE, { input: { accountId: 'shared-acct', planType: 'RENEWAL_DEFENSE', signals: SIGNALS, idempotencyKey: 'victim-key-3' } }, attacker);
      figures.add('cross-tenant attempts');
      expect(sameKey.errors).toBeUndefined();
      expect(victimIds).not.toContain(sameKey.data!.proposePlan.plan.planId);
      expect(sameKey.data!.proposePlan.plan.tenantId).toBe('attacker-co');
      // The attacker's own plan for the same account id activates: the victim's ACTIVE plan is not theirs to conflict with.
      const own = sameKey.data!.proposePlan.plan.planId;
      expect((await tx('approve', own, attacker)).data?.r?.ok).toBe(true);
      const act = await tx('activate', own, attacker);
      expect(act.data?.r).toMatchObject({ ok: true, plan: { status: 'ACTIVE' } });
      const attackerList = await server.gql<{ plans: { edges: { node: { planId: string } }[] } }>('{ plans(first: 50) { edges { node { planId } } } }', {}, attacker);
      expect(attackerList.data?.plans.edges.map((e) => e.node.planId)).toEqual([own]);

      figures.add('cross-tenant attempts with a wrong answer', failures.length);
      expect(failures).toEqual([]);
      const afterSnap = await snapshot();
      expect(afterSnap).toEqual(before);
      figures.set('victim documents unchanged (plans + ledger)', before.plans.length + before.ledger.length);
    },
    90_000,
  );
});
