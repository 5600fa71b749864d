import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestServer, type TestServer } from '../support/testServer.js';

const PLAN_FIELDS = `planId planType tenantId accountId objective status expiresAt createdAt updatedAt createdBy approvedAt approvedBy abortedAt
  steps { stepId actionType status sequence dependencies constraints }`;

const PROPOSE = `mutation Propose($input: ProposePlanInput!) {
  proposePlan(input: $input) { proposalId source droppedSteps { actionType reason } plan { ${PLAN_FIELDS} } }
}`;
const TRANSITION_FIELDS = `ok reasons { code message } plan { planId status approvedBy approvedAt abortedAt }`;

interface PlanData {
  planId: string;
  status: string;
  accountId: string;
  tenantId: string;
  objective: string;
  createdBy: string | null;
  approvedBy: string | null;
  steps: { stepId: string; actionType: string; sequence: number; dependencies: string[] }[];
}
interface ProposeData {
  proposePlan: { proposalId: string; source: string; droppedSteps: unknown[]; plan: PlanData };
}
interface TransitionData {
  ok: boolean;
  reasons: { code: string; message: string }[];
  plan: { planId: string; status: string; approvedBy: string | null } | null;
}

const SIGNALS = [
  { type: 'RENEWAL_WINDOW', days_to_renewal: 45, renewal_date: '2027-01-07' },
  { type: 'SUPPORT_RISK', severity: 'HIGH', open_escalations: 2 },
];

describe('GraphQL API end to end (real server, real store)', () => {
  let server: TestServer;
  let proposer: string;
  let approver: string;
  let viewer: string;
  let otherTenant: string;

  beforeAll(async () => {
    server = await startTestServer();
    proposer = await server.token('acme', ['plan-proposer'], 'paula');
    approver = await server.token('acme', ['plan-approver'], 'arthur');
    viewer = await server.token('acme', ['plan-viewer'], 'vera');
    otherTenant = await server.token('globex', ['plan-proposer', 'plan-approver'], 'mallory');
  });
  afterAll(async () => {
    await server.close();
  });

  const propose = async (accountId: string, extra: Record<string, unknown> = {}, token = proposer) =>
    server.gql<ProposeData>(PROPOSE, { input: { accountId, planType: 'RENEWAL_DEFENSE', signals: SIGNALS, ...extra } }, token);

  const transition = async (mutation: string, args: string, variables: Record<string, unknown>, token = approver) => {
    const types: Record<string, string> = { planId: 'ID!', reason: mutation === 'abortPlan' ? 'String!' : 'String', pre: 'Boolean!' };
    const declared = Object.keys(variables).map((k) => `$${k}: ${types[k]}`).join(', ');
    const res = await server.gql<Record<string, TransitionData>>(`mutation(${declared}) { r: ${mutation}(${args}) { ${TRANSITION_FIELDS} } }`, variables, token);
    return { ...res, result: res.data?.r };
  };

  const ledgerOf = async (planId: string, token = viewer) => {
    const res = await server.gql<{ plan: { ledger: { edges: { node: { seq: number; eventType: string; actor: string; data: Record<string, unknown>; prevHash: string | null; hash: string } }[] } } }>(
      `query($id: ID!) { plan(planId: $id) { ledger(first: 100) { edges { node { seq eventType actor data prevHash hash } } } } }`,
      { id: planId },
      token,
    );
    return res.data?.plan.ledger.edges.map((e) => e.node) ?? [];
  };

  it('walks the whole happy path with the exact ledger story and a valid chain', async () => {
    const proposed = await propose('acct-happy');
    expect(proposed.errors).toBeUndefined();
    const p = proposed.data!.proposePlan;
    expect(p.source).toBe('RULES');
    expect(p.plan.status).toBe('DRAFT');
    expect(p.plan.tenantId).toBe('acme');
    expect(p.plan.createdBy).toBe('paula');
    expect(p.plan.steps.map((s) => s.actionType)).toEqual(['REQUEST_RENEWAL_MEETING', 'PREP_RENEWAL_BRIEF', 'ESCALATE_SUPPORT_RISK']);
    expect(p.plan.objective).toContain('2027-01-07');
    const planId = p.plan.planId;

    const read = await server.gql<{ plan: PlanData }>(`query($id: ID!) { plan(planId: $id) { ${PLAN_FIELDS} } }`, { id: planId }, viewer);
    expect(read.data?.plan.planId).toBe(planId);

    const brief = p.plan.steps.find((s) => s.actionType === 'PREP_RENEWAL_BRIEF')!;
    const update = await server.gql<{ updateDraftPlan: TransitionData & { plan: PlanData } }>(
      `mutation($id: ID!, $input: UpdateDraftPlanInput!) { updateDraftPlan(planId: $id, input: $input) { ok reasons { code message } plan { ${PLAN_FIELDS} } } }`,
      { id: planId, input: { objective: 'Renew acct-happy for two years', steps: [{ actionType: 'PREP_RENEWAL_BRIEF' }, { actionType: 'ESCALATE_SUPPORT_RISK', dependsOn: [0] }] } },
      proposer,
    );
    expect(update.errors).toBeUndefined();
    expect(update.data?.updateDraftPlan.ok).toBe(true);
    const updatedSteps = update.data!.updateDraftPlan.plan.steps;
    expect(updatedSteps[0]?.stepId).toBe(brief.stepId); // kept its id
    expect(updatedSteps[1]?.dependencies).toEqual([brief.stepId]);

    const approved = await transition('approvePlan', 'planId: $planId', { planId });
    expect(approved.result).toMatchObject({ ok: true, plan: { status: 'APPROVED', approvedBy: 'arthur' } });
    expect((await transition('activatePlan', 'planId: $planId, preconditionsMet: $pre', { planId, pre: true })).result?.plan?.status).toBe('ACTIVE');
    expect((await transition('pausePlan', 'planId: $planId, reason: $reason', { planId, reason: 'customer asked for a week' })).result?.plan?.status).toBe('PAUSED');
    expect((await transition('resumePlan', 'planId: $planId, preconditionsMet: $pre', { planId, pre: true })).result?.plan?.status).toBe('ACTIVE');
    expect((await transition('abortPlan', 'planId: $planId, reason: $reason', { planId, reason: 'churn confirmed' })).result?.plan?.status).toBe('ABORTED');

    const story = await ledgerOf(planId);
    expect(story.map((e) => [e.seq, e.eventType, e.actor])).toEqual([
      [1, 'PLAN_CREATED', 'paula'],
      [2, 'PLAN_UPDATED', 'paula'],
      [3, 'PLAN_APPROVED', 'arthur'],
      [4, 'PLAN_ACTIVATED', 'arthur'],
      [5, 'PLAN_PAUSED', 'arthur'],
      [6, 'PLAN_RESUMED', 'arthur'],
      [7, 'PLAN_ABORTED', 'arthur'],
    ]);
    expect(story[0]?.data).toMatchObject({ plan_id: planId, trigger: 'proposal_generated', source: 'RULES', account_id: 'acct-happy' });
    expect(story[4]?.data).toMatchObject({ reason: 'customer asked for a week' });
    expect(story[6]?.data).toMatchObject({ reason: 'churn confirmed' });
    expect(story[0]?.prevHash).toBeNull();
    for (let i = 1; i < story.length; i++) expect(story[i]?.prevHash).toBe(story[i - 1]?.hash);

    const verified = await server.gql<{ verifyPlanLedger: { valid: boolean; entries: number; brokenAtSeq: number | null } }>(
      `query($id: ID!) { verifyPlanLedger(planId: $id) { planId valid entries brokenAtSeq } }`,
      { id: planId },
      viewer,
    );
    expect(verified.data?.verifyPlanLedger).toMatchObject({ valid: true, entries: 7, brokenAtSeq: null });

    const feed = await server.gql<{ planLedger: { edges: { node: { seq: number } }[] } }>(`query($f: LedgerFilter) { planLedger(filter: $f) { edges { node { seq } } } }`, { f: { planId } }, viewer);
    expect(feed.data?.planLedger.edges.map((e) => e.node.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);

    const stats = await server.gql<{ ledgerStats: { eventType: string; day: string; count: number }[] }>(`query($f: LedgerFilter) { ledgerStats(filter: $f) { eventType day count } }`, { f: { planId } }, viewer);
    const today = new Date().toISOString().slice(0, 10);
    expect(stats.data?.ledgerStats).toEqual(expect.arrayContaining([{ eventType: 'PLAN_CREATED', day: today, count: 1 }, { eventType: 'PLAN_ABORTED', day: today, count: 1 }]));
  });

  it('returns gate refusals as data and leaves the plan unchanged', async () => {
    const planId = (await propose('acct-gate')).data!.proposePlan.plan.planId;
    await transition('approvePlan', 'planId: $planId', { planId });
    const refused = await transition('activatePlan', 'planId: $planId, preconditionsMet: $pre', { planId, pre: false });
    expect(refused.errors).toBeUndefined();
    expect(refused.result).toMatchObject({ ok: false, plan: { status: 'APPROVED' } });
    expect(refused.result?.reasons.map((r) => r.code)).toEqual(['PRECONDITIONS_UNMET']);
    const check = await server.gql<{ planActivationCheck: { canActivate: boolean; reasons: { code: string }[] } }>(
      `query($id: ID!) { planActivationCheck(planId: $id, preconditionsMet: true) { canActivate reasons { code } } }`,
      { id: planId },
      viewer,
    );
    expect(check.data?.planActivationCheck).toEqual({ canActivate: true, reasons: [] });
    expect((await ledgerOf(planId)).map((e) => e.eventType)).toEqual(['PLAN_CREATED', 'PLAN_APPROVED']);

    // A second plan for the same account cannot become ACTIVE while the first is.
    expect((await transition('activatePlan', 'planId: $planId, preconditionsMet: $pre', { planId, pre: true })).result?.ok).toBe(true);
    const second = (await propose('acct-gate')).data!.proposePlan.plan.planId;
    await transition('approvePlan', 'planId: $planId', { planId: second });
    const conflict = await transition('activatePlan', 'planId: $planId, preconditionsMet: $pre', { planId: second, pre: true });
    expect(conflict.result?.ok).toBe(false);
    expect(conflict.result?.reasons.map((r) => r.code)).toEqual(['CONFLICT_ACTIVE_PLAN']);

    // A structural violation in updateDraftPlan is ok:false with reasons, nothing written.
    const draft = (await propose('acct-gate-2')).data!.proposePlan.plan.planId;
    const badUpdate = await server.gql<{ updateDraftPlan: TransitionData }>(
      `mutation($id: ID!) { updateDraftPlan(planId: $id, input: { steps: [{ actionType: "PREP_RENEWAL_BRIEF", dependsOn: [1] }, { actionType: "ESCALATE_SUPPORT_RISK", dependsOn: [0] }] }) { ok reasons { code message } } }`,
      { id: draft },
      proposer,
    );
    expect(badUpdate.data?.updateDraftPlan.ok).toBe(false);
    expect(badUpdate.data?.updateDraftPlan.reasons.map((r) => r.code)).toContain('STEP_ORDER_VIOLATION');
    const disallowed = await server.gql<{ updateDraftPlan: TransitionData }>(
      `mutation($id: ID!) { updateDraftPlan(planId: $id, input: { steps: [{ actionType: "SEND_DISCOUNT" }] }) { ok reasons { code message } } }`,
      { id: draft },
      proposer,
    );
    expect(disallowed.data?.updateDraftPlan.reasons[0]?.message).toContain('SEND_DISCOUNT');
    expect((await ledgerOf(draft)).map((e) => e.eventType)).toEqual(['PLAN_CREATED']);
  });

  it('produces every error code of the contract from a real request', async () => {
    const codeOf = (r: { errors?: { extensions?: { code?: string } }[] }) => r.errors?.[0]?.extensions?.code;
    const planId = (await propose('acct-errors')).data!.proposePlan.plan.planId;

    expect(codeOf(await server.gql('{ plans { edges { cursor } } }'))).toBe('UNAUTHENTICATED');
    expect(codeOf(await propose('acct-x', {}, viewer))).toBe('FORBIDDEN');
    expect(codeOf(await propose('acct-x', { tenantId: 'globex' }))).toBe('FORBIDDEN');
    expect(codeOf(await transition('approvePlan', 'planId: $planId', { planId }, proposer))).toBe('FORBIDDEN');
    expect(codeOf(await propose('', {}))).toBe('BAD_USER_INPUT');
    expect(codeOf(await propose('acct-x', { signals: Array.from({ length: 201 }, () => ({ type: 'CHAMPION_LEFT' })) }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await propose('acct-x', { posture: { $where: 'sleep(1000)' } }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await server.gql('{ plans(first: 501) { edges { cursor } } }', {}, viewer))).toBe('BAD_USER_INPUT');
    // A huge page is stopped earlier still, by the query cost limit.
    expect(codeOf(await server.gql('{ plans(first: 100000) { edges { cursor } } }', {}, viewer))).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(codeOf(await server.gql('{ plans(after: "not-a-cursor") { edges { cursor } } }', {}, viewer))).toBe('BAD_USER_INPUT');
    expect(codeOf(await transition('approvePlan', 'planId: $planId', { planId: 'no-such-plan' }))).toBe('NOT_FOUND');
    expect(codeOf(await server.gql('query($id: ID!) { verifyPlanLedger(planId: $id) { valid } }', { id: 'no-such-plan' }, viewer))).toBe('NOT_FOUND');
    expect(codeOf(await transition('pausePlan', 'planId: $planId, reason: $reason', { planId, reason: 'x' }))).toBe('INVALID_TRANSITION');
    await transition('approvePlan', 'planId: $planId', { planId });
    const againUpdate = await server.gql(`mutation($id: ID!) { updateDraftPlan(planId: $id, input: { objective: "x" }) { ok } }`, { id: planId }, proposer);
    expect(codeOf(againUpdate)).toBe('INVALID_TRANSITION');
  });

  it('refuses to approve or activate an expired plan with a message that says so', async () => {
    const planId = (await propose('acct-expired')).data!.proposePlan.plan.planId;
    await server.db.collection('plans').updateOne({ _id: planId } as never, { $set: { expires_at: new Date(Date.now() - 1000) } });
    const res = await transition('approvePlan', 'planId: $planId', { planId });
    expect(res.errors?.[0]?.extensions?.code).toBe('INVALID_TRANSITION');
    expect(res.errors?.[0]?.message).toMatch(/expired/);
  });

  it('moves an ACTIVE plan past its expiry to EXPIRED when next touched', async () => {
    const planId = (await propose('acct-expiring')).data!.proposePlan.plan.planId;
    await transition('approvePlan', 'planId: $planId', { planId });
    await transition('activatePlan', 'planId: $planId, preconditionsMet: $pre', { planId, pre: true });
    await server.db.collection('plans').updateOne({ _id: planId } as never, { $set: { expires_at: new Date(Date.now() - 1000) } });
    const res = await transition('pausePlan', 'planId: $planId, reason: $reason', { planId, reason: 'late' });
    expect(res.errors?.[0]?.extensions?.code).toBe('INVALID_TRANSITION');
    const story = await ledgerOf(planId);
    expect(story.map((e) => e.eventType)).toEqual(['PLAN_CREATED', 'PLAN_APPROVED', 'PLAN_ACTIVATED', 'PLAN_EXPIRED']);
    expect(story[3]?.actor).toBe('system:expiry');
  });

  it('is idempotent by idempotencyKey and refuses a reused key with a different input', async () => {
    const first = await propose('acct-idem', { idempotencyKey: 'req-1' });
    const again = await propose('acct-idem', { idempotencyKey: 'req-1' });
    expect(again.data?.proposePlan.plan.planId).toBe(first.data?.proposePlan.plan.planId);
    expect(again.data?.proposePlan.proposalId).toBe(first.data?.proposePlan.proposalId);
    expect(await server.db.collection('plan_ledger').countDocuments({ plan_id: first.data?.proposePlan.plan.planId })).toBe(1);
    const different = await propose('acct-other', { idempotencyKey: 'req-1' });
    expect(different.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('isolates tenants: another tenant can neither read nor change a plan, nor learn it exists', async () => {
    const planId = (await propose('acct-private')).data!.proposePlan.plan.planId;
    const read = await server.gql<{ plan: unknown }>('query($id: ID!) { plan(planId: $id) { planId } }', { id: planId }, otherTenant);
    expect(read.data?.plan).toBeNull();
    const list = await server.gql<{ plans: { edges: unknown[] } }>('{ plans { edges { node { planId } } } }', {}, otherTenant);
    expect(list.data?.plans.edges).toEqual([]);
    const feed = await server.gql<{ planLedger: { edges: unknown[] } }>('query($f: LedgerFilter) { planLedger(filter: $f) { edges { cursor } } }', { f: { planId } }, otherTenant);
    expect(feed.data?.planLedger.edges).toEqual([]);
    const stats = await server.gql<{ ledgerStats: unknown[] }>('{ ledgerStats { count } }', {}, otherTenant);
    expect(stats.data?.ledgerStats).toEqual([]);
    const missing = await server.gql('query($id: ID!) { verifyPlanLedger(planId: $id) { valid } }', { id: 'never-existed' }, otherTenant);
    for (const [mutation, args, vars] of [
      ['approvePlan', 'planId: $planId', { planId }],
      ['activatePlan', 'planId: $planId, preconditionsMet: $pre', { planId, pre: true }],
      ['pausePlan', 'planId: $planId, reason: $reason', { planId, reason: 'x' }],
      ['resumePlan', 'planId: $planId, preconditionsMet: $pre', { planId, pre: true }],
      ['abortPlan', 'planId: $planId, reason: $reason', { planId, reason: 'x' }],
    ] as const) {
      const res = await transition(mutation, args, vars, otherTenant);
      // The same answer as for an id that never existed: nothing to learn.
      expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(res.errors?.[0]?.message).toBe(missing.errors?.[0]?.message);
    }
    const upd = await server.gql('mutation($id: ID!) { updateDraftPlan(planId: $id, input: { objective: "hijack" }) { ok } }', { id: planId }, otherTenant);
    expect(upd.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const check = await server.gql('query($id: ID!) { planActivationCheck(planId: $id, preconditionsMet: true) { canActivate } }', { id: planId }, otherTenant);
    expect(check.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const own = await server.gql<{ plan: PlanData }>(`query($id: ID!) { plan(planId: $id) { ${PLAN_FIELDS} } }`, { id: planId }, viewer);
    expect(own.data?.plan.status).toBe('DRAFT');
    expect(own.data?.plan.objective).not.toBe('hijack');
    expect((await ledgerOf(planId)).length).toBe(1);
  });

  it('paginates plans newest first and walks every item exactly once under concurrent inserts', async () => {
    const pagerToken = await server.token('pager', ['plan-proposer'], 'pat');
    const seeded = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const r = await propose(`acct-page-${i}`, {}, pagerToken);
      seeded.add(r.data!.proposePlan.plan.planId);
    }
    const seen: string[] = [];
    let after: string | null = null;
    let inserted = 0;
    for (;;) {
      const page: { data?: { plans: { edges: { cursor: string; node: { planId: string; updatedAt: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } | null } = await server.gql(
        'query($after: String) { plans(first: 5, after: $after) { edges { cursor node { planId updatedAt } } pageInfo { hasNextPage endCursor } } }',
        { after },
        pagerToken,
      );
      const conn = page.data!.plans;
      seen.push(...conn.edges.map((e) => e.node.planId));
      // New plans arrive while we page: they are newer, so they sort before the cursor and never shift it.
      if (inserted < 3) {
        await propose(`acct-page-new-${inserted}`, {}, pagerToken);
        inserted++;
      }
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => seeded.has(id)).length).toBe(seeded.size);
  });

  it('batches the ledgers of a page of plans (no N+1): one ledger query', async () => {
    const token = await server.token('batch', ['plan-proposer'], 'bo');
    for (let i = 0; i < 5; i++) await propose(`acct-batch-${i}`, {}, token);
    // The page's ledgers are one store call (the DataLoader's batch) ...
    const ledger = server.running.services.store.ledger;
    const batchCalls: number[] = [];
    const listByPlans = ledger.listByPlans.bind(ledger);
    ledger.listByPlans = (tenantId, planIds, first) => {
      batchCalls.push(planIds.length);
      return listByPlans(tenantId, planIds, first);
    };
    // ... and the commands it sends to the ledger collection are one query.
    const client = server.running.mongo.client;
    const ledgerReads: { command: string; filter: unknown }[] = [];
    const listener = (event: { commandName: string; command: Record<string, unknown> }) => {
      if ((event.commandName === 'find' || event.commandName === 'aggregate') && event.command[event.commandName] === 'plan_ledger') {
        ledgerReads.push({ command: event.commandName, filter: event.command.filter });
      }
    };
    client.on('commandStarted', listener);
    try {
      const res = await server.gql<{ plans: { edges: { node: { ledger: { edges: { node: { eventType: string } }[] } } }[] } }>(
        '{ plans(first: 5) { edges { node { planId ledger(first: 10) { edges { node { eventType } } } } } } }',
        {},
        token,
      );
      expect(res.errors).toBeUndefined();
      expect(res.data?.plans.edges.map((e) => e.node.ledger.edges.map((l) => l.node.eventType))).toEqual(Array(5).fill(['PLAN_CREATED']));
    } finally {
      client.off('commandStarted', listener);
      ledger.listByPlans = listByPlans;
    }
    expect(batchCalls).toEqual([5]);
    expect(ledgerReads.length).toBe(1);
  });
});
