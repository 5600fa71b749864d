import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fakeReplies, startFakeGemini, type FakeGemini } from '../support/fakeGemini.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

/** proposePlan's explained payload, through the real service, store and SDK (fake Gemini on loopback). */

const PROPOSE = `mutation($input: ProposePlanInput!) { proposePlan(input: $input) {
  proposalId source replayed
  warnings { code message path }
  droppedSteps { actionType reason }
  openPlans { planId status createdAt }
  plan { planId status createdAt steps { actionType sequence rationale evidence { source index field } dueAt ownerRole status } }
} }`;
const UPDATE = `mutation($id: ID!, $input: UpdateDraftPlanInput!) { updateDraftPlan(planId: $id, input: $input) {
  ok reasons { code message } plan { steps { actionType rationale evidence { source index field } dueAt ownerRole } } } }`;
const CONFIG = `{ planTypeConfig(planType: RENEWAL_DEFENSE) { stepSchedule { actionType ownerRole dueDaysBeforeRenewal dueDaysAfterCreation } } }`;

interface Step {
  actionType: string;
  sequence: number;
  rationale: string | null;
  evidence: { source: string; index: number | null; field: string | null }[];
  dueAt: string | null;
  ownerRole: string | null;
}
interface Proposed {
  proposalId: string;
  source: string;
  replayed: boolean;
  warnings: { code: string; message: string; path: string | null }[];
  droppedSteps: unknown[];
  openPlans: { planId: string; status: string; createdAt: string }[];
  plan: { planId: string; status: string; createdAt: string; steps: Step[] };
}

const M = 'REQUEST_RENEWAL_MEETING';
const B = 'PREP_RENEWAL_BRIEF';
const E = 'ESCALATE_SUPPORT_RISK';

describe('explained proposals with the rules generator', () => {
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer();
    token = await server.token('t-explain', ['plan-proposer', 'plan-approver']);
  });
  afterAll(async () => {
    await server.close();
  });

  const propose = async (input: Record<string, unknown>) => {
    const res = await server.gql<{ proposePlan: Proposed }>(PROPOSE, { input: { planType: 'RENEWAL_DEFENSE', ...input } }, token);
    expect(res.errors).toBeUndefined();
    return res.data!.proposePlan;
  };

  it('gives every step a rationale, the evidence that fired it, a due date and an owner', async () => {
    const renewal = new Date(Date.now() + 45 * 86_400_000).toISOString().slice(0, 10);
    const p = await propose({
      accountId: 'acme-explained',
      posture: { health: 'CRITICAL' },
      signals: [{ type: 'RENEWAL_WINDOW', renewal_date: renewal }, { type: 'SUPPORT_RISK', severity: 'HIGH', open_escalations: 2 }],
    });
    expect(p.replayed).toBe(false);
    expect(p.warnings).toEqual([]);
    const byType = Object.fromEntries(p.plan.steps.map((s) => [s.actionType, s]));
    expect(Object.keys(byType)).toEqual([M, B, E]);
    expect(byType[M]!.evidence).toEqual([
      { source: 'SIGNAL', index: 0, field: null },
      { source: 'POSTURE', index: null, field: 'health' },
    ]);
    expect(byType[B]!.evidence).toEqual([]);
    expect(byType[E]!.evidence).toEqual([
      { source: 'SIGNAL', index: 1, field: null },
      { source: 'POSTURE', index: null, field: 'health' },
    ]);
    expect(byType[M]!.rationale).toMatch(/renewal in 45 day/);
    expect(p.plan.steps.map((s) => s.ownerRole)).toEqual(['ACCOUNT_EXECUTIVE', 'CSM', 'SUPPORT_MANAGER']);
    const created = Date.parse(p.plan.createdAt);
    const dues = p.plan.steps.map((s) => Date.parse(s.dueAt!));
    for (const due of dues) {
      expect(due).toBeGreaterThanOrEqual(created);
      expect(due).toBeLessThanOrEqual(Date.parse(`${renewal}T00:00:00Z`));
    }
    expect([...dues].sort((a, b) => a - b)).toEqual(dues);
    // The escalation is due 30 days before the renewal day (45 days out), whatever the time of day now.
    expect(new Date(dues[2]!).toISOString()).toBe(new Date(Date.parse(`${renewal}T00:00:00Z`) - 30 * 86_400_000).toISOString());

    // The PLAN_CREATED entry carries the same explanation.
    const entry = await server.db.collection('plan_ledger').findOne({ plan_id: p.plan.planId, event_type: 'PLAN_CREATED' });
    const data = entry!.data as { steps: { evidence: unknown[]; due_at: string; owner_role: string; rationale: string }[]; warnings: unknown[] };
    expect(data.steps.map((s) => s.owner_role)).toEqual(['ACCOUNT_EXECUTIVE', 'CSM', 'SUPPORT_MANAGER']);
    expect(data.steps[2]!.due_at).toBe(p.plan.steps[2]!.dueAt);
    expect(data.steps[0]!.evidence).toEqual(byType[M]!.evidence);
  });

  it('reports a mistyped signal type and a signals list sent as a string as warnings', async () => {
    const mistyped = await propose({ accountId: 'acme-warn', signals: [{ type: 'RENEWAL_WINDOWS', days_to_renewal: 45 }] });
    expect(mistyped.warnings).toEqual([
      { code: 'UNKNOWN_SIGNAL_TYPE', path: 'signals[0]', message: expect.stringContaining('did you mean RENEWAL_WINDOW?') },
    ]);
    expect(mistyped.plan.steps.map((s) => s.actionType)).toEqual([B]);
    const created = await server.db.collection('plan_ledger').findOne({ plan_id: mistyped.plan.planId, event_type: 'PLAN_CREATED' });
    expect((created!.data as { warnings: unknown[] }).warnings).toEqual(mistyped.warnings);
    // GraphQL coerces a single value to a one-item list: the string arrives as signals[0].
    const asString = await propose({ accountId: 'acme-warn-2', signals: '[{"type":"RENEWAL_WINDOW","days_to_renewal":45}]' });
    expect(asString.warnings).toEqual([{ code: 'MALFORMED_SIGNAL', path: 'signals[0]', message: expect.stringContaining('JSON text in a string') }]);
    const dates = await propose({ accountId: 'acme-warn-3', posture: { renewal_date: 'next spring' }, history: [{ action_type: M, at: 'yesterday' }] });
    expect(dates.warnings.map((w) => [w.code, w.path])).toEqual([
      ['UNREADABLE_DATE', 'history[0].at'],
      ['UNREADABLE_DATE', 'posture.renewal_date'],
    ]);
  });

  it('replays an idempotent proposal with replayed true and the same warnings, and lists the open plans newest first', async () => {
    const input = { accountId: 'acme-open', signals: [{ type: 'USAGE_DROPS', percent: 40 }] };
    const first = await propose({ ...input, idempotencyKey: 'open-1' });
    const again = await propose({ ...input, idempotencyKey: 'open-1' });
    expect(again.replayed).toBe(true);
    expect(again.plan.planId).toBe(first.plan.planId);
    expect(again.warnings).toEqual(first.warnings);
    expect(first.openPlans).toEqual([]);
    const second = await propose({ ...input, idempotencyKey: 'open-2' });
    const third = await propose(input);
    expect(second.openPlans.map((p) => p.planId)).toEqual([first.plan.planId]);
    expect(third.openPlans.map((p) => p.planId)).toEqual([second.plan.planId, first.plan.planId]);
    // A closed plan is no longer open (a DRAFT cannot be aborted: approve it first).
    const approved = await server.gql<{ approvePlan: { ok: boolean } }>(`mutation($id: ID!) { approvePlan(planId: $id) { ok } }`, { id: first.plan.planId }, token);
    expect(approved.data!.approvePlan.ok).toBe(true);
    const aborted = await server.gql<{ abortPlan: { ok: boolean } }>(`mutation($id: ID!) { abortPlan(planId: $id, reason: "dup") { ok } }`, { id: first.plan.planId }, token);
    expect(aborted.data!.abortPlan.ok).toBe(true);
    const fourth = await propose(input);
    expect(fourth.openPlans.map((p) => p.planId)).toEqual([third.plan.planId, second.plan.planId]);
  });

  it('shows the schedule in planTypeConfig', async () => {
    const res = await server.gql<{ planTypeConfig: { stepSchedule: unknown[] } }>(CONFIG, {}, token);
    expect(res.data!.planTypeConfig.stepSchedule).toEqual([
      { actionType: M, ownerRole: 'ACCOUNT_EXECUTIVE', dueDaysBeforeRenewal: 60, dueDaysAfterCreation: 7 },
      { actionType: B, ownerRole: 'CSM', dueDaysBeforeRenewal: 45, dueDaysAfterCreation: 10 },
      { actionType: E, ownerRole: 'SUPPORT_MANAGER', dueDaysBeforeRenewal: 30, dueDaysAfterCreation: 14 },
    ]);
  });

  it('lets updateDraftPlan set and keep explanations, and the gate refuses due dates out of order', async () => {
    const p = await propose({ accountId: 'acme-update', signals: [{ type: 'CHAMPION_LEFT' }] });
    const [meeting, brief] = p.plan.steps;
    // No renewal date is known: the schedule counts from creation (meeting +7 days, escalation +14).
    const later = new Date(Date.parse(p.plan.createdAt) + 12 * 86_400_000).toISOString();
    const ok = await server.gql<{ updateDraftPlan: { ok: boolean; plan: { steps: Step[] } } }>(
      UPDATE,
      {
        id: p.plan.planId,
        input: {
          steps: [
            { actionType: M },
            { actionType: B, rationale: 'Brief the new sponsor', ownerRole: 'ACCOUNT_EXECUTIVE', dueAt: later, evidence: [{ source: 'SIGNAL', index: 0 }] },
            { actionType: E },
          ],
        },
      },
      token,
    );
    expect(ok.data!.updateDraftPlan.ok).toBe(true);
    const steps = ok.data!.updateDraftPlan.plan.steps;
    expect(steps[0]).toMatchObject({ rationale: meeting!.rationale, evidence: meeting!.evidence, dueAt: meeting!.dueAt, ownerRole: meeting!.ownerRole });
    expect(steps[1]).toMatchObject({ rationale: 'Brief the new sponsor', ownerRole: 'ACCOUNT_EXECUTIVE', dueAt: later, evidence: [{ source: 'SIGNAL', index: 0, field: null }] });
    expect(brief!.ownerRole).toBe('CSM');
    // A new step gets the schedule: 14 days after creation, an owner, no rationale.
    expect(steps[2]).toMatchObject({ ownerRole: 'SUPPORT_MANAGER', rationale: null, evidence: [] });
    const updated = await server.db.collection('plan_ledger').findOne({ plan_id: p.plan.planId, event_type: 'PLAN_UPDATED' });
    const to = (updated!.data as { steps: { to: { due_at: string; owner_role: string; rationale: string | null }[] } }).steps.to;
    expect(to[1]).toMatchObject({ due_at: later, owner_role: 'ACCOUNT_EXECUTIVE', rationale: 'Brief the new sponsor' });

    const refused = await server.gql<{ updateDraftPlan: { ok: boolean; reasons: { code: string; message: string }[] } }>(
      UPDATE,
      { id: p.plan.planId, input: { steps: [{ actionType: M, dueAt: later }, { actionType: B, dueAt: p.plan.createdAt }] } },
      token,
    );
    expect(refused.data!.updateDraftPlan.ok).toBe(false);
    expect(refused.data!.updateDraftPlan.reasons).toEqual([{ code: 'STEP_ORDER_VIOLATION', message: expect.stringContaining('is due before step REQUEST_RENEWAL_MEETING') }]);

    const early = await server.gql(UPDATE, { id: p.plan.planId, input: { steps: [{ actionType: M, dueAt: '2000-01-01T00:00:00Z' }] } }, token);
    expect(early.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const badRole = await server.gql(UPDATE, { id: p.plan.planId, input: { steps: [{ actionType: M, ownerRole: '<b>me</b>' }] } }, token);
    expect(badRole.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('explained proposals with the model (fake Gemini)', () => {
  let fake: FakeGemini;
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    fake = await startFakeGemini();
    server = await startTestServer({ GEMINI_API_KEY: 'test-key', GEMINI_MODEL: 'gemini-test', GEMINI_BASE_URL: fake.baseUrl });
    token = await server.token('t-explain-llm', ['plan-proposer']);
  });
  afterAll(async () => {
    await server.close();
    await fake.close();
  });

  it('keeps the evidence that points at the input, drops the rest, and never lets it set status or ids', async () => {
    fake.enqueue(
      fakeReplies.answer({
        objective: 'Keep <b>acme</b>',
        steps: [
          {
            action_type: M,
            depends_on: [],
            rationale: 'Renewal <script>x</script> soon\u0000',
            status: 'DONE',
            step_id: 'mine',
            due_at: '1999-01-01',
            evidence: [
              { source: 'SIGNAL', index: 0, field: 'days_to_renewal' },
              { source: 'SIGNAL', index: 7 },
              { source: 'POSTURE', field: 'nope' },
              { source: 'APPROVAL', index: 0 },
            ],
          },
        ],
      }),
    );
    const res = await server.gql<{ proposePlan: Proposed }>(
      PROPOSE,
      { input: { accountId: 'acme-llm', planType: 'RENEWAL_DEFENSE', signals: [{ type: 'RENEWAL_WINDOW', days_to_renewal: 45 }] } },
      token,
    );
    const p = res.data!.proposePlan;
    expect(p.source).toBe('LLM');
    const step = p.plan.steps[0]!;
    expect(step).toMatchObject({ status: 'PENDING', rationale: 'Renewal x soon', evidence: [{ source: 'SIGNAL', index: 0, field: 'days_to_renewal' }], ownerRole: 'ACCOUNT_EXECUTIVE' });
    expect(Date.parse(step.dueAt!)).toBeGreaterThanOrEqual(Date.parse(p.plan.createdAt));
    const entry = await server.db.collection('plan_ledger').findOne({ plan_id: p.plan.planId, event_type: 'PLAN_CREATED' });
    expect((entry!.data as { dropped_evidence: { reason: string }[] }).dropped_evidence.map((d) => d.reason)).toEqual([
      'index_out_of_range',
      'unknown_field',
      'unknown_source',
    ]);
  });

  it('answers PROPOSAL_REJECTED (fallback rules notwithstanding) when no allowed step is left, and writes nothing', async () => {
    fake.enqueue(fakeReplies.answer({ objective: 'x', steps: [{ action_type: 'WIRE_FUNDS', depends_on: [] }] }));
    const res = await server.gql(PROPOSE, { input: { accountId: 'acme-rejected', planType: 'RENEWAL_DEFENSE' } }, token);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'PROPOSAL_REJECTED', droppedSteps: [{ actionType: 'WIRE_FUNDS', reason: 'disallowed_action_type' }] });
    expect(await server.db.collection('plans').countDocuments({ account_id: 'acme-rejected' })).toBe(0);
    expect(await server.db.collection('plan_ledger').countDocuments({ account_id: 'acme-rejected' })).toBe(0);
  });

  it('makes one model call for 60 concurrent proposals with one idempotency key', async () => {
    fake.reset();
    fake.setDefault({ ...(fakeReplies.goodPlan() as { kind: 'text'; text: string }), delayMs: 200 });
    const input = { accountId: 'acme-flight', planType: 'RENEWAL_DEFENSE', idempotencyKey: 'flight-1' };
    const all = await Promise.all(Array.from({ length: 60 }, () => server.gql<{ proposePlan: Proposed }>(PROPOSE, { input }, token)));
    expect(all.every((r) => r.errors === undefined)).toBe(true);
    expect(new Set(all.map((r) => r.data!.proposePlan.plan.planId)).size).toBe(1);
    expect(all.filter((r) => !r.data!.proposePlan.replayed)).toHaveLength(1);
    expect(fake.requests).toHaveLength(1);
    fake.reset();
  });
});

describe('a model that does not exist (fake Gemini answering 404)', () => {
  let fake: FakeGemini;
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    fake = await startFakeGemini({ defaultReply: fakeReplies.httpError(404, 'models/gemini-2.0-flash is not found') });
    server = await startTestServer({ GEMINI_API_KEY: 'test-key', GEMINI_MODEL: 'gemini-2.0-flash', GEMINI_BASE_URL: fake.baseUrl });
    token = await server.token('t-404', ['plan-proposer']);
  });
  afterAll(async () => {
    await server.close();
    await fake.close();
  });

  it('serves the rules, asks the model once, and says so in /health and /metrics', async () => {
    const health0 = await fetch(`${server.url}/health`);
    expect(await health0.json()).toEqual({ status: 'ok' });
    for (let i = 0; i < 3; i++) {
      const res = await server.gql<{ proposePlan: Proposed }>(PROPOSE, { input: { accountId: `acme-404-${i}`, planType: 'RENEWAL_DEFENSE' } }, token);
      expect(res.data!.proposePlan.source).toBe('RULES');
    }
    expect(fake.requests).toHaveLength(1);
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({
      status: 'degraded',
      llm: { status: 'misconfigured', model: 'gemini-2.0-flash', reason: expect.stringContaining('not found (HTTP 404)') },
    });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/llm_config_errors_total\{model="gemini-2.0-flash"\} 1/);
    expect(metrics).toMatch(/llm_model_misconfigured 1/);
  });
});
