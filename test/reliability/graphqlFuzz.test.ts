import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  contractViolations,
  Figures,
  PROPOSE,
  SIGNALS,
  startReliabilityServer,
  storeCounts,
  tokenFor,
  type ProposedPlan,
  type RawResponse,
  type ReliabilityServer,
} from '../support/reliability.js';

/**
 * Property-based fuzzing of the GraphQL inputs with fast-check: a fixed seed and 100 runs per
 * property in CI; FUZZ_RUNS=<n> (and optionally FUZZ_SEED) for a longer run. Properties: no
 * 5xx, no INTERNAL_SERVER_ERROR, every error carries a contract code, a refused mutation
 * writes nothing, and an accepted proposal writes exactly one plan and one PLAN_CREATED.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const SEED = Number(process.env.FUZZ_SEED ?? 20_260_611);
const figures = new Figures(`GraphQL fuzz (seed ${SEED}, ${RUNS} runs per property)`);

// ---- arbitraries ----
const hostileKey = fc.oneof(
  { weight: 8, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom('$gt', '$ne', '$where', '$set', 'a.b', '__proto__', 'constructor', '', 'pending_event', '_id', 'plan_status', '\u0000', 'x'.repeat(200)) },
);
const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('<script>alert(1)</script>', '{"$ne":null}', "' OR 1=1 --", '\u0000', '\u202e', '😈', '../../etc/passwd', 'RENEWAL_DEFENSE', 'x'.repeat(3000)) },
);
const scalar = fc.oneof(hostileString, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
const { json } = fc.letrec((tie) => ({
  json: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('json'), { maxLength: 4 }), fc.dictionary(hostileKey, tie('json'), { maxKeys: 4 })),
}));
const signal = fc.oneof(
  fc.record({ type: fc.constantFrom('RENEWAL_WINDOW', 'SUPPORT_RISK', 'USAGE_DROP', 'CHAMPION_LEFT', 'NPS_DETRACTOR', 'OTHER'), days_to_renewal: fc.integer({ min: -1000, max: 100_000 }), severity: fc.constantFrom('LOW', 'MEDIUM', 'HIGH', 'CRITICAL', 'weird'), percent: fc.double({ noNaN: true, noDefaultInfinity: true }), open_escalations: fc.integer() }, { requiredKeys: ['type'] }),
  json,
);
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 3 });
const idLike = fc.oneof({ weight: 6, arbitrary: fc.stringMatching(/^[a-z0-9-]{1,20}$/) }, { weight: 1, arbitrary: hostileString }, { weight: 1, arbitrary: json });

const proposeInput = fc.record(
  {
    accountId: idLike,
    planType: fc.oneof({ weight: 4, arbitrary: fc.constant('RENEWAL_DEFENSE') }, { weight: 1, arbitrary: hostileString }),
    tenantId: maybe(fc.oneof({ weight: 3, arbitrary: fc.constant('fuzz') }, { weight: 1, arbitrary: hostileString })),
    posture: maybe(fc.oneof(fc.record({ health: fc.constantFrom('HEALTHY', 'AT_RISK', 'CRITICAL', 'x'), arr: fc.integer(), renewal_date: fc.oneof(fc.constant('2027-01-07'), hostileString) }), json)),
    signals: maybe(fc.oneof({ weight: 4, arbitrary: fc.array(signal, { maxLength: 6 }) }, { weight: 1, arbitrary: json })),
    history: maybe(fc.array(fc.oneof(fc.record({ action_type: fc.constantFrom('REQUEST_RENEWAL_MEETING', 'X'), at: fc.oneof(fc.constant('2026-11-01T10:00:00Z'), hostileString) }), json), { maxLength: 4 })),
    tenantGoals: maybe(json),
    idempotencyKey: maybe(fc.oneof(fc.stringMatching(/^k[0-9]{1,2}$/), hostileString)),
  },
  { requiredKeys: [] },
);

const stepInput = fc.record(
  {
    actionType: fc.oneof(fc.constantFrom('REQUEST_RENEWAL_MEETING', 'PREP_RENEWAL_BRIEF', 'ESCALATE_SUPPORT_RISK'), hostileString),
    dependsOn: maybe(fc.array(fc.oneof(fc.integer({ min: -2, max: 12 }), fc.integer()), { maxLength: 4 })),
    constraints: maybe(json),
  },
  { requiredKeys: ['actionType'] },
);
const updateInput = fc.record(
  {
    objective: maybe(hostileString),
    steps: maybe(fc.array(stepInput, { maxLength: 5 })),
    constraints: maybe(json),
    expiresAt: maybe(fc.oneof(fc.date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()), hostileString)),
  },
  { requiredKeys: [] },
);
const pageArgs = fc.record({ first: maybe(fc.oneof(fc.integer({ min: -5, max: 600 }), fc.integer(), hostileString)), after: maybe(fc.oneof(hostileString, fc.base64String({ maxLength: 80 }))) }, { requiredKeys: [] });
const ledgerFilter = maybe(
  fc.record(
    {
      planId: maybe(idLike),
      accountId: maybe(idLike),
      eventTypes: maybe(fc.array(fc.oneof(fc.constantFrom('PLAN_CREATED', 'PLAN_APPROVED', 'PLAN_UPDATED'), hostileString), { maxLength: 3 })),
      since: maybe(fc.oneof(fc.date({ noInvalidDate: true, min: new Date('1970-01-01'), max: new Date('2100-01-01') }).map((d) => d.toISOString()), hostileString)),
      until: maybe(fc.oneof(fc.date({ noInvalidDate: true, min: new Date('1970-01-01'), max: new Date('2100-01-01') }).map((d) => d.toISOString()), hostileString)),
    },
    { requiredKeys: [] },
  ),
);

describe('reliability: fuzzing the GraphQL inputs (fast-check)', () => {
  let server: ReliabilityServer;
  let token: string;
  let draftId: string;
  const violations: string[] = [];

  beforeAll(async () => {
    server = await startReliabilityServer();
    token = await tokenFor('fuzz', ['plan-proposer', 'plan-approver'], 'fuzzer');
    const res = await server.gql<{ proposePlan: ProposedPlan }>(PROPOSE, { input: { accountId: 'acct-fuzz', planType: 'RENEWAL_DEFENSE', signals: SIGNALS } }, token);
    draftId = res.data!.proposePlan.plan.planId;
  }, 60_000);

  afterAll(async () => {
    figures.set('property violations', violations.length);
    figures.print();
    await server?.close();
  }, 60_000);

  /** The properties every answer must have; returns the answer for the caller's own checks. */
  const check = (what: string, res: RawResponse) => {
    figures.add('inputs tried');
    for (const e of res.errors ?? []) figures.tally('error code', e.extensions?.code ?? '<none>');
    if (!res.errors?.length) figures.add('inputs accepted');
    const problems = contractViolations(res);
    if (problems.length) violations.push(`${what}: ${problems.join('; ')}`);
    return problems;
  };
  const opts = (runs: number) => ({ seed: SEED, numRuns: runs, endOnFailure: true, interruptAfterTimeLimit: Math.max(60_000, runs * 600) });

  it(
    'proposePlan: no 5xx, contract codes only; refused writes nothing, accepted writes one plan and one PLAN_CREATED',
    async () => {
      await fc.assert(
        fc.asyncProperty(proposeInput, async (input) => {
          const before = await storeCounts(server.db);
          const res = await server.gql<{ proposePlan: ProposedPlan }>(PROPOSE, { input }, token);
          const problems = check('proposePlan', res);
          const after = await storeCounts(server.db);
          if (res.errors?.length) {
            expect({ problems, wrote: after.plans !== before.plans || after.ledger !== before.ledger }).toEqual({ problems: [], wrote: false });
          } else {
            expect(problems).toEqual([]);
            const p = res.data!.proposePlan.plan;
            expect(p.status).toBe('DRAFT');
            expect(p.tenantId).toBe('fuzz');
            // A new plan, or the replay of an idempotent one (then nothing new).
            const delta = after.plans - before.plans;
            expect([0, 1]).toContain(delta);
            expect(after.ledger - before.ledger).toBe(delta);
            if (delta === 0) expect(input.idempotencyKey).toBeDefined();
            figures.add('plans proposed by the fuzzer', delta);
          }
        }),
        opts(RUNS),
      );
    },
    Math.max(120_000, RUNS * 1500),
  );

  it(
    'updateDraftPlan: no 5xx, contract codes only; an error or a gate refusal writes nothing',
    async () => {
      await fc.assert(
        fc.asyncProperty(updateInput, fc.oneof({ weight: 5, arbitrary: fc.constant('draft') }, { weight: 1, arbitrary: idLike }), async (input, which) => {
          const id = which === 'draft' ? draftId : which;
          const before = await storeCounts(server.db);
          const res = await server.gql<{ updateDraftPlan: { ok: boolean } }>(
            'mutation($id: ID!, $input: UpdateDraftPlanInput!) { updateDraftPlan(planId: $id, input: $input) { ok reasons { code } plan { status } } }',
            { id, input },
            token,
          );
          const problems = check('updateDraftPlan', res);
          const after = await storeCounts(server.db);
          expect(problems).toEqual([]);
          expect(after.plans).toBe(before.plans);
          const wrote = after.ledger - before.ledger;
          if (res.errors?.length || res.data?.updateDraftPlan.ok === false) expect(wrote).toBe(0);
          else {
            expect(wrote).toBe(1);
            figures.add('draft updates accepted');
          }
        }),
        opts(RUNS),
      );
      const chain = await server.gql<{ verifyPlanLedger: { valid: boolean } }>('query($id: ID!) { verifyPlanLedger(planId: $id) { valid } }', { id: draftId }, token);
      expect(chain.data?.verifyPlanLedger.valid).toBe(true);
    },
    Math.max(120_000, RUNS * 1500),
  );

  it(
    'reads and transitions with arbitrary arguments: no 5xx, contract codes only, nothing written by reads or by refused transitions',
    async () => {
      const readOrTransition = fc.oneof(
        fc.record({ kind: fc.constant('plans' as const), page: pageArgs, filter: maybe(fc.record({ accountId: maybe(idLike), status: maybe(fc.array(fc.oneof(fc.constantFrom('DRAFT', 'ACTIVE'), hostileString), { maxLength: 3 })), planType: maybe(hostileString), overdue: maybe(fc.oneof(fc.boolean(), json)), assignee: maybe(idLike) }, { requiredKeys: [] })) }),
        fc.record({ kind: fc.constant('planLedger' as const), page: pageArgs, filter: ledgerFilter }),
        fc.record({ kind: fc.constant('ledgerStats' as const), filter: ledgerFilter }),
        fc.record({ kind: fc.constant('plan' as const), id: idLike, page: pageArgs }),
        fc.record({ kind: fc.constantFrom('approvePlan' as const, 'abortPlan' as const, 'pausePlan' as const, 'activatePlan' as const), id: idLike, reason: maybe(fc.oneof(hostileString, json)), pre: fc.oneof(fc.boolean(), json) }),
        fc.record({ kind: fc.constantFrom('startStep' as const, 'completeStep' as const, 'skipStep' as const, 'failStep' as const, 'assignStep' as const, 'completePlan' as const), id: idLike, step: idLike, text: maybe(fc.oneof(hostileString, json)) }),
      );
      await fc.assert(
        fc.asyncProperty(readOrTransition, async (op) => {
          const before = await storeCounts(server.db);
          let res: RawResponse;
          switch (op.kind) {
            case 'plans':
              res = await server.gql('query($f: PlanFilter, $first: Int, $after: String) { plans(filter: $f, first: $first, after: $after) { edges { cursor node { planId } } pageInfo { hasNextPage endCursor } } }', { f: op.filter, ...op.page }, token);
              break;
            case 'planLedger':
              res = await server.gql('query($f: LedgerFilter, $first: Int, $after: String) { planLedger(filter: $f, first: $first, after: $after) { edges { cursor node { seq } } } }', { f: op.filter, ...op.page }, token);
              break;
            case 'ledgerStats':
              res = await server.gql('query($f: LedgerFilter) { ledgerStats(filter: $f) { eventType day count } }', { f: op.filter }, token);
              break;
            case 'plan':
              res = await server.gql('query($id: ID!, $first: Int, $after: String) { plan(planId: $id) { planId ledger(first: $first, after: $after) { edges { cursor } } } }', { id: op.id, ...op.page }, token);
              break;
            case 'startStep':
            case 'completeStep':
            case 'skipStep':
            case 'failStep':
            case 'assignStep':
            case 'completePlan': {
              const arg = { startStep: null, completeStep: 'note', skipStep: 'reason', failStep: 'reason', assignStep: 'assignee', completePlan: 'note' }[op.kind];
              const required = op.kind === 'skipStep' || op.kind === 'failStep';
              const onStep = op.kind !== 'completePlan';
              const defs = ['$id: ID!', ...(onStep ? ['$step: ID!'] : []), ...(arg ? [`$text: String${required ? '!' : ''}`] : [])].join(', ');
              const args = ['planId: $id', ...(onStep ? ['stepId: $step'] : []), ...(arg ? [`${arg}: $text`] : [])].join(', ');
              res = await server.gql(`mutation(${defs}) { r: ${op.kind}(${args}) { ok } }`, { id: op.id, ...(onStep ? { step: op.step } : {}), ...(arg ? { text: op.text } : {}) }, token);
              break;
            }
            default: {
              const withReason = op.kind === 'abortPlan' || op.kind === 'pausePlan';
              const withPre = op.kind === 'activatePlan';
              const defs = ['$id: ID!', ...(withReason ? [op.kind === 'abortPlan' ? '$reason: String!' : '$reason: String'] : []), ...(withPre ? ['$pre: Boolean!'] : [])].join(', ');
              const args = ['planId: $id', ...(withReason ? ['reason: $reason'] : []), ...(withPre ? ['preconditionsMet: $pre'] : [])].join(', ');
              res = await server.gql(`mutation(${defs}) { r: ${op.kind}(${args}) { ok } }`, { id: op.id, ...(withReason ? { reason: op.reason } : {}), ...(withPre ? { pre: op.pre } : {}) }, token);
            }
          }
          const problems = check(op.kind, res);
          expect(problems).toEqual([]);
          expect(await storeCounts(server.db)).toEqual(before);
        }),
        opts(RUNS),
      );
    },
    Math.max(120_000, RUNS * 1500),
  );

  it(
    'raw request bodies: arbitrary JSON and text never produce a 5xx',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(json.map((j) => JSON.stringify(j) ?? 'null'), fc.string({ maxLength: 200 }), fc.record({ query: hostileString, variables: json }).map((b) => JSON.stringify(b))), async (body) => {
          const before = await storeCounts(server.db);
          const res = await server.gql('', {}, token, { rawBody: body });
          const problems = check('raw body', res);
          expect(problems).toEqual([]);
          expect(await storeCounts(server.db)).toEqual(before);
        }),
        opts(RUNS),
      );
    },
    Math.max(120_000, RUNS * 1500),
  );
});
