import { PLAN_STATUSES } from '../../src/domain/enums.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestServer, type GraphQLResponse, type TestServer } from '../support/testServer.js';

// Plans that get worked and finished (docs/steps.md), through the real service and store: the
// whole life to COMPLETED, the refusals, the dependency rule, the overdue and assignee lists,
// and 50 people finishing one plan's steps at once (one PLAN_COMPLETED, chain and log verify).

// The renewal 100 days ahead: every step is due weeks from now.
const RENEWAL = new Date(Date.now() + 100 * 86_400_000).toISOString().slice(0, 10);
const SIGNALS = [
  { type: 'RENEWAL_WINDOW', days_to_renewal: 100, renewal_date: RENEWAL },
  { type: 'SUPPORT_RISK', severity: 'HIGH', open_escalations: 2 },
];
/** The three steps, the brief depending on the meeting. */
const WITH_DEPENDENCY = [
  { actionType: 'REQUEST_RENEWAL_MEETING' },
  { actionType: 'PREP_RENEWAL_BRIEF', dependsOn: [0] },
  { actionType: 'ESCALATE_SUPPORT_RISK' },
];
const PLAN_FIELDS = `planId status completionReason completedAt openSteps overdueSteps
  steps { stepId actionType status dependencies startedAt completedAt assignee overdue note dueAt ownerRole }`;
const STEP_MUTATIONS = {
  start: 'startStep(planId: $p, stepId: $s)',
  complete: 'completeStep(planId: $p, stepId: $s, note: $n)',
  skip: 'skipStep(planId: $p, stepId: $s, reason: $n)',
  fail: 'failStep(planId: $p, stepId: $s, reason: $n)',
  assign: 'assignStep(planId: $p, stepId: $s, assignee: $n)',
} as const;
type StepVerb = keyof typeof STEP_MUTATIONS;

interface Step {
  stepId: string;
  actionType: string;
  status: string;
  dependencies: string[];
  startedAt: string | null;
  completedAt: string | null;
  assignee: string | null;
  overdue: boolean;
  note: string | null;
  dueAt: string | null;
}
interface Plan {
  planId: string;
  status: string;
  completionReason: string | null;
  completedAt: string | null;
  openSteps: number;
  overdueSteps: number;
  steps: Step[];
}
type Payload = GraphQLResponse<{ r: { ok: boolean; plan: Plan | null } }>;

describe('step progress and completion (real server, real store)', () => {
  let server: TestServer;
  let proposer: string;
  let approver: string;
  let viewer: string;

  beforeAll(async () => {
    server = await startTestServer({ LEDGER_CHECKPOINT_INTERVAL_MS: '100' });
    proposer = await server.token('works', ['plan-proposer'], 'paula');
    approver = await server.token('works', ['plan-approver'], 'arthur');
    viewer = await server.token('works', ['plan-viewer'], 'vera');
  });
  afterAll(async () => {
    await server.close();
  });

  const propose = async (accountId: string): Promise<Plan> => {
    const res = await server.gql<{ proposePlan: { plan: Plan } }>(
      `mutation($input: ProposePlanInput!) { proposePlan(input: $input) { plan { ${PLAN_FIELDS} } } }`,
      { input: { accountId, planType: 'RENEWAL_DEFENSE', signals: SIGNALS } },
      proposer,
    );
    expect(res.errors).toBeUndefined();
    return res.data!.proposePlan.plan;
  };
  const lifecycle = async (mutation: string, planId: string, args = '', token = approver): Promise<Payload> =>
    server.gql(`mutation($id: ID!) { r: ${mutation}(planId: $id${args}) { ok plan { ${PLAN_FIELDS} } } }`, { id: planId }, token);
  const editSteps = async (planId: string, steps: unknown[]) => {
    const res = await server.gql('mutation($id: ID!, $input: UpdateDraftPlanInput!) { updateDraftPlan(planId: $id, input: $input) { ok } }', { id: planId, input: { steps } }, proposer);
    expect(res.errors).toBeUndefined();
  };
  /** An ACTIVE plan; with `steps`, its DRAFT's steps were edited to them first. */
  const activePlan = async (accountId: string, steps?: unknown[]): Promise<Plan> => {
    const plan = await propose(accountId);
    if (steps) await editSteps(plan.planId, steps);
    expect((await lifecycle('approvePlan', plan.planId)).data?.r.ok).toBe(true);
    const activated = await lifecycle('activatePlan', plan.planId, ', preconditionsMet: true');
    expect(activated.data?.r.ok).toBe(true);
    return activated.data!.r.plan!;
  };
  const step = (verb: StepVerb, planId: string, stepId: string, n: string | null = null, token = proposer): Promise<Payload> => {
    const vars = { start: '', complete: ', $n: String', skip: ', $n: String!', fail: ', $n: String!', assign: ', $n: String' }[verb];
    return server.gql(`mutation($p: ID!, $s: ID!${vars}) { r: ${STEP_MUTATIONS[verb]} { ok plan { ${PLAN_FIELDS} } } }`, { p: planId, s: stepId, ...(verb === 'start' ? {} : { n }) }, token);
  };
  const ok = (res: Payload): Plan => {
    expect(res.errors).toBeUndefined();
    expect(res.data?.r.ok).toBe(true);
    return res.data!.r.plan!;
  };
  const codeOf = (res: GraphQLResponse) => res.errors?.[0]?.extensions?.code;
  const ledgerOf = async (planId: string) =>
    (
      await server.gql<{ plan: { ledger: { edges: { node: { eventType: string; actor: string; data: Record<string, unknown> } }[] } } }>(
        'query($id: ID!) { plan(planId: $id) { ledger(first: 100) { edges { node { eventType actor data } } } } }',
        { id: planId },
        viewer,
      )
    ).data!.plan.ledger.edges.map((e) => e.node);
  /** A step whose dependencies are all DONE, and one that waits on another. */
  const independent = (plan: Plan) => plan.steps.find((s) => s.dependencies.length === 0)!;

  it('lives from proposal to COMPLETED: assign, start, complete with a note, skip; the last open step completes the plan', async () => {
    const plan = await activePlan('acct-life', WITH_DEPENDENCY);
    expect(plan.steps.length).toBeGreaterThanOrEqual(2);
    expect(plan).toMatchObject({ status: 'ACTIVE', openSteps: plan.steps.length, overdueSteps: 0 });
    const order = [...plan.steps].sort((a, b) => a.dependencies.length - b.dependencies.length);
    const first = order[0]!;

    const assigned = ok(await step('assign', plan.planId, first.stepId, 'alice', approver));
    expect(assigned.steps.find((s) => s.stepId === first.stepId)).toMatchObject({ assignee: 'alice', status: 'PENDING' });
    const started = ok(await step('start', plan.planId, first.stepId));
    const startedStep = started.steps.find((s) => s.stepId === first.stepId)!;
    expect(startedStep.status).toBe('PENDING');
    expect(startedStep.startedAt).not.toBeNull();
    let current = ok(await step('complete', plan.planId, first.stepId, 'met the champion'));
    expect(current.steps.find((s) => s.stepId === first.stepId)).toMatchObject({ status: 'DONE', note: 'met the champion' });
    expect(current.openSteps).toBe(plan.steps.length - 1);

    // Every other step: the last one finishes the plan; before it the plan stays ACTIVE.
    const rest = order.slice(1);
    for (const [i, s] of rest.entries()) {
      const last = i === rest.length - 1;
      current = ok(last ? await step('skip', plan.planId, s.stepId, 'covered in the meeting') : await step('complete', plan.planId, s.stepId));
      expect(current.status).toBe(last ? 'COMPLETED' : 'ACTIVE');
    }
    expect(current).toMatchObject({ status: 'COMPLETED', completionReason: 'all_steps_done', openSteps: 0, overdueSteps: 0 });
    expect(current.completedAt).not.toBeNull();

    const ledger = await ledgerOf(plan.planId);
    expect(ledger.map((e) => e.eventType)).toEqual([
      'PLAN_CREATED',
      'PLAN_UPDATED',
      'PLAN_APPROVED',
      'PLAN_ACTIVATED',
      'STEP_ASSIGNED',
      'STEP_STARTED',
      'STEP_COMPLETED',
      ...rest.slice(0, -1).map(() => 'STEP_COMPLETED'),
      'PLAN_COMPLETED',
    ]);
    expect(ledger[4]).toMatchObject({ actor: 'arthur', data: { step_id: first.stepId, assignee: { from: null, to: 'alice' } } });
    expect(ledger[6]).toMatchObject({ actor: 'paula', data: { step_id: first.stepId, from: 'PENDING', to: 'DONE', note: 'met the champion' } });
    expect(ledger.at(-1)).toMatchObject({
      actor: 'paula',
      data: { from: 'ACTIVE', to: 'COMPLETED', completion_reason: 'all_steps_done', step_id: rest.at(-1)!.stepId, step_event: 'STEP_SKIPPED', step: { to: 'SKIPPED', reason: 'covered in the meeting' } },
    });
    // Nothing moves once the plan is COMPLETED.
    expect(codeOf(await lifecycle('completePlan', plan.planId))).toBe('INVALID_TRANSITION');
  });

  it('refuses what the rules refuse and changes nothing', async () => {
    const draft = await propose('acct-refuse-draft');
    const draftStep = independent(draft);
    expect(codeOf(await step('start', draft.planId, draftStep.stepId))).toBe('INVALID_TRANSITION');
    expect(codeOf(await step('assign', draft.planId, draftStep.stepId, 'bob'))).toBe('INVALID_TRANSITION');

    const plan = await activePlan('acct-refuse');
    const s = independent(plan);
    expect(codeOf(await step('start', plan.planId, 'no-such-step'))).toBe('NOT_FOUND');
    expect(codeOf(await step('start', 'no-such-plan', s.stepId))).toBe('NOT_FOUND');
    expect(codeOf(await step('start', plan.planId, s.stepId, null, viewer))).toBe('FORBIDDEN');
    expect(codeOf(await step('skip', plan.planId, s.stepId, '   '))).toBe('BAD_USER_INPUT');
    expect(codeOf(await step('fail', plan.planId, s.stepId, 'x'.repeat(1001)))).toBe('BAD_USER_INPUT');
    expect(codeOf(await step('assign', plan.planId, s.stepId, 'has space'))).toBe('BAD_USER_INPUT');
    expect(codeOf(await lifecycle('completePlan', plan.planId, '', proposer))).toBe('FORBIDDEN');
    ok(await step('start', plan.planId, s.stepId));
    expect(codeOf(await step('start', plan.planId, s.stepId))).toBe('INVALID_TRANSITION');
    ok(await step('fail', plan.planId, s.stepId, 'customer declined the meeting'));
    for (const verb of ['start', 'complete', 'skip', 'fail', 'assign'] as const) {
      expect(codeOf(await step(verb, plan.planId, s.stepId, verb === 'complete' ? null : 'again'))).toBe('INVALID_TRANSITION');
    }
    // A paused plan takes no step work.
    const other = plan.steps.find((x) => x.stepId !== s.stepId)!;
    ok(await lifecycle('pausePlan', plan.planId));
    expect(codeOf(await step('skip', plan.planId, other.stepId, 'paused'))).toBe('INVALID_TRANSITION');
    ok(await lifecycle('resumePlan', plan.planId, ', preconditionsMet: true'));

    // With a FAILED step, finishing the others leaves the plan ACTIVE; completePlan (approver) ends it.
    let current: Plan = plan;
    for (const x of plan.steps.filter((y) => y.stepId !== s.stepId)) current = ok(await step('skip', plan.planId, x.stepId, 'not needed'));
    expect(current).toMatchObject({ status: 'ACTIVE', openSteps: 0 });
    const completed = ok(await lifecycle('completePlan', plan.planId, ', note: "renewed anyway"'));
    expect(completed).toMatchObject({ status: 'COMPLETED', completionReason: 'objective_met' });
    const ledger = await ledgerOf(plan.planId);
    expect(ledger.filter((e) => e.eventType === 'PLAN_COMPLETED')).toEqual([
      expect.objectContaining({ actor: 'arthur', data: expect.objectContaining({ completion_reason: 'objective_met', note: 'renewed anyway' }) }),
    ]);
    // Refusals wrote nothing: the ledger holds exactly the accepted moves.
    expect(ledger.map((e) => e.eventType)).toEqual([
      'PLAN_CREATED',
      'PLAN_APPROVED',
      'PLAN_ACTIVATED',
      'STEP_STARTED',
      'STEP_FAILED',
      'PLAN_PAUSED',
      'PLAN_RESUMED',
      ...plan.steps.slice(1).map(() => 'STEP_SKIPPED'),
      'PLAN_COMPLETED',
    ]);
  });

  it('DONE needs every dependency DONE first', async () => {
    const plan = await activePlan('acct-deps', WITH_DEPENDENCY);
    const dependent = plan.steps.find((s) => s.dependencies.length > 0);
    expect(dependent).toBeDefined();
    const res = await step('complete', plan.planId, dependent!.stepId);
    expect(codeOf(res)).toBe('INVALID_TRANSITION');
    expect(res.errors?.[0]?.extensions).toMatchObject({ waitingFor: dependent!.dependencies });
    for (const id of dependent!.dependencies) ok(await step('complete', plan.planId, id));
    expect(ok(await step('complete', plan.planId, dependent!.stepId)).steps.find((s) => s.stepId === dependent!.stepId)?.status).toBe('DONE');
  });

  it('lists plans with overdue work and plans with work assigned to someone', async () => {
    const list = async (filter: Record<string, unknown>) =>
      (
        await server.gql<{ plans: { edges: { node: { planId: string; overdueSteps: number } }[] } }>(
          'query($f: PlanFilter) { plans(filter: $f, first: 100) { edges { node { planId overdueSteps } } } }',
          { f: filter },
          viewer,
        )
      ).data!.plans.edges.map((e) => e.node.planId);

    // Due in two seconds: once they pass, the steps are overdue (nothing else is written meanwhile).
    const late = await propose('acct-late');
    const dueSoon = new Date(Date.now() + 2_000).toISOString();
    await editSteps(late.planId, WITH_DEPENDENCY.map((s) => ({ ...s, dueAt: dueSoon })));
    expect((await lifecycle('approvePlan', late.planId)).data?.r.ok).toBe(true);
    const onTime = await activePlan('acct-on-time');
    const draftLate = await propose('acct-draft');
    expect(await list({ overdue: true })).toEqual([]);
    await new Promise((r) => setTimeout(r, 2_200));

    // APPROVED counts; a DRAFT never does (its steps have due dates in the future anyway).
    expect(await list({ overdue: true })).toEqual([late.planId]);
    const activated = ok(await lifecycle('activatePlan', late.planId, ', preconditionsMet: true'));
    expect(activated.overdueSteps).toBe(late.steps.length);
    expect(activated.steps.every((s) => s.overdue)).toBe(true);
    // Finishing a step takes it off; pausing takes the plan off; resuming puts it back.
    const done = ok(await step('skip', late.planId, independent(activated).stepId, 'done elsewhere'));
    expect(done.overdueSteps).toBe(late.steps.length - 1);
    expect(done.steps.find((s) => s.stepId === independent(activated).stepId)!.overdue).toBe(false);
    ok(await lifecycle('pausePlan', late.planId));
    expect(await list({ overdue: true })).toEqual([]);
    ok(await lifecycle('resumePlan', late.planId, ', preconditionsMet: true'));
    expect(await list({ overdue: true })).toEqual([late.planId]);
    expect(await list({ overdue: true, accountId: 'acct-on-time' })).toEqual([]);
    expect(await list({ overdue: false })).toEqual(expect.arrayContaining([late.planId, onTime.planId, draftLate.planId]));

    // planStatusCounts' open and overdue steps are the plans' own, summed per status (the kept
    // counts, read while the tally job may or may not have taken in the latest moves).
    type Row = { status: string; count: number; openSteps: number; overdueSteps: number };
    const counted = (await server.gql<{ planStatusCounts: Row[] }>('{ planStatusCounts { status count openSteps overdueSteps } }', {}, viewer)).data!.planStatusCounts;
    const listed = (await server.gql<{ plans: { edges: { node: Row }[] } }>('{ plans(first: 500) { edges { node { status openSteps overdueSteps } } } }', {}, viewer)).data!.plans.edges;
    const summed = new Map<string, Row>();
    for (const { node } of listed) {
      const row = summed.get(node.status) ?? { status: node.status, count: 0, openSteps: 0, overdueSteps: 0 };
      summed.set(node.status, { status: node.status, count: row.count + 1, openSteps: row.openSteps + node.openSteps, overdueSteps: row.overdueSteps + node.overdueSteps });
    }
    expect(counted).toEqual(PLAN_STATUSES.flatMap((s) => (summed.has(s) ? [summed.get(s)!] : [])));
    expect(counted.find((r) => r.status === 'ACTIVE')?.overdueSteps).toBe(late.steps.length - 1);

    // Assignee: open steps only; reassigning and finishing take a plan off the person's list.
    const [a, b] = onTime.steps;
    ok(await step('assign', onTime.planId, a!.stepId, 'alice'));
    ok(await step('assign', onTime.planId, b!.stepId, 'bob'));
    ok(await step('assign', late.planId, activated.steps.find((s) => s.dependencies.length > 0)!.stepId, 'alice'));
    expect((await list({ assignee: 'alice' })).sort()).toEqual([late.planId, onTime.planId].sort());
    expect(await list({ assignee: 'bob' })).toEqual([onTime.planId]);
    expect(await list({ assignee: 'alice', overdue: true })).toEqual([late.planId]);
    ok(await step('assign', onTime.planId, a!.stepId, null));
    expect(await list({ assignee: 'alice' })).toEqual([late.planId]);
    ok(await step('skip', onTime.planId, b!.stepId, 'no need'));
    expect(await list({ assignee: 'bob' })).toEqual([]);
    expect(codeOf(await server.gql('query { plans(filter: { assignee: "" }) { edges { cursor } } }', {}, viewer))).toBe('BAD_USER_INPUT');

    // Time passes beyond the late plan's expiry (its stored expires_at moved into the past): the
    // lists expire it as they read it, and leave it out; its work is nobody's any more.
    await server.db.collection('plans').updateOne({ _id: late.planId } as never, { $set: { expires_at: new Date(Date.now() - 1000) } });
    expect(await list({ assignee: 'alice' })).toEqual([]);
    expect(await list({ overdue: true })).toEqual([]);
    expect((await ledgerOf(late.planId)).filter((e) => e.eventType === 'PLAN_EXPIRED')).toHaveLength(1);
    expect(await server.db.collection('plans').findOne({ _id: late.planId } as never)).toMatchObject({ plan_status: 'EXPIRED', next_due_at: null, open_assignee_1: null });
  });

  it('50 people finishing one plan\'s steps at once: each step recorded once, one PLAN_COMPLETED, the chain and the log verify', async () => {
    const plan = await activePlan('acct-crowd', WITH_DEPENDENCY);
    const people = await Promise.all(Array.from({ length: 50 }, (_v, i) => server.token('works', [i % 2 ? 'plan-approver' : 'plan-proposer'], `person-${i}`)));
    const wins: string[] = [];
    const refusals = new Map<string, number>();
    // Each person keeps trying the steps (in their own order; the brief waits for the meeting) until the plan is COMPLETED.
    await Promise.all(
      people.map(async (token, i) => {
        for (let round = 0; round < 20; round++) {
          const target = plan.steps[(i + round) % plan.steps.length]!;
          const res = await step(i % 3 === 0 ? 'skip' : 'complete', plan.planId, target.stepId, i % 3 === 0 ? `skipped by ${i}` : null, token);
          if (res.data?.r.ok) {
            wins.push(target.stepId);
            if (res.data.r.plan!.status === 'COMPLETED') return;
          } else {
            const code = String(codeOf(res));
            refusals.set(code, (refusals.get(code) ?? 0) + 1);
          }
          const now = await server.gql<{ plan: { status: string } }>('query($id: ID!) { plan(planId: $id) { status } }', { id: plan.planId }, viewer);
          if (now.data?.plan.status === 'COMPLETED') return;
        }
      }),
    );
    expect([...refusals.keys()].every((c) => c === 'INVALID_TRANSITION' || c === 'CONFLICT')).toBe(true);
    expect(wins.sort()).toEqual(plan.steps.map((s) => s.stepId).sort());
    const ledger = await ledgerOf(plan.planId);
    const stepEntries = ledger.slice(4);
    expect(stepEntries).toHaveLength(plan.steps.length);
    expect(ledger.filter((e) => e.eventType === 'PLAN_COMPLETED')).toHaveLength(1);
    expect(new Set(stepEntries.map((e) => e.data.step_id)).size).toBe(plan.steps.length);

    const verified = await server.gql<{ verifyPlanLedger: { valid: boolean; entries: number } }>('query($id: ID!) { verifyPlanLedger(planId: $id) { valid entries } }', { id: plan.planId }, viewer);
    expect(verified.data?.verifyPlanLedger).toEqual({ valid: true, entries: 4 + plan.steps.length });
    let checkpoint: { valid: boolean; treeSize: number } | undefined;
    for (let i = 0; i < 100; i++) {
      const res = await server.gql<{ verifyLedgerCheckpoint: { valid: boolean; treeSize: number } }>('query { verifyLedgerCheckpoint { valid treeSize } }', {}, viewer);
      checkpoint = res.data?.verifyLedgerCheckpoint;
      const total = await server.db.collection('plan_ledger').countDocuments({ tenant_id: 'works' });
      if (checkpoint && checkpoint.treeSize >= total) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(checkpoint?.valid).toBe(true);
    expect(checkpoint?.treeSize).toBe(await server.db.collection('plan_ledger').countDocuments({ tenant_id: 'works' }));
  }, 120_000);
});
