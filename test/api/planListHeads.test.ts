import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CommandStartedEvent, CommandSucceededEvent, Document } from 'mongodb';
import { PLANS_COLLECTION } from '../../src/store/indexes.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

// Plan lists read heads, every field but the steps (docs/store.md, "Plan lists"), through the
// real service and store, seen on the driver's command events: a selection without steps reads
// one projected page and gets no step from the store; one that asks for steps, openSteps or
// overdueSteps (directly, aliased, in a fragment) reads whole plans, and gets what plan(planId) gives.

const TENANT = 'heads';
// The renewal 100 days ahead: the proposed steps are due weeks from now.
const SIGNALS = [
  { type: 'RENEWAL_WINDOW', days_to_renewal: 100, renewal_date: new Date(Date.now() + 100 * 86_400_000).toISOString().slice(0, 10) },
  { type: 'SUPPORT_RISK', severity: 'HIGH', open_escalations: 2 },
];
const HEAD = 'planId status objective accountId updatedAt expiresAt planTypeConfigVersion';
const STEPS = 'openSteps overdueSteps steps { stepId actionType status rationale evidence { source index field } dueAt ownerRole overdue }';

type Node = Record<string, unknown> & { planId: string };

describe('plan lists read heads, and steps only when asked', () => {
  let server: TestServer;
  let proposer: string;
  let approver: string;
  let viewer: string;
  const finds: { started: CommandStartedEvent; reply?: Document }[] = [];
  const onStarted = (e: CommandStartedEvent) => {
    const cmd = e.command as Document;
    if (e.commandName === 'find' && cmd.find === PLANS_COLLECTION && (cmd.filter as Document | undefined)?.tenant_id === TENANT) finds.push({ started: e });
  };
  const onSucceeded = (e: CommandSucceededEvent) => {
    const find = finds.find((f) => f.started.requestId === e.requestId);
    if (find) find.reply = e.reply as Document;
  };

  beforeAll(async () => {
    server = await startTestServer({ LEDGER_SEALER: 'off', PLAN_COUNTS_TALLY: 'off' });
    proposer = await server.token(TENANT, ['plan-proposer'], 'paula');
    approver = await server.token(TENANT, ['plan-approver'], 'arthur');
    viewer = await server.token(TENANT, ['plan-viewer'], 'vera');
    server.running.mongo.client.on('commandStarted', onStarted);
    server.running.mongo.client.on('commandSucceeded', onSucceeded);
  });
  afterAll(async () => {
    server.running.mongo.client.off('commandStarted', onStarted);
    server.running.mongo.client.off('commandSucceeded', onSucceeded);
    await server.close();
  });

  const gql = async <T>(query: string, variables: Record<string, unknown>, token = viewer): Promise<T> => {
    const res = await server.gql<T>(query, variables, token);
    expect(res.errors).toBeUndefined();
    return res.data!;
  };
  const propose = async (accountId: string): Promise<string> =>
    (
      await gql<{ proposePlan: { plan: { planId: string } } }>(
        'mutation($input: ProposePlanInput!) { proposePlan(input: $input) { plan { planId } } }',
        { input: { accountId, planType: 'RENEWAL_DEFENSE', signals: SIGNALS } },
        proposer,
      )
    ).proposePlan.plan.planId;
  /** The list's nodes with `selection`, and the finds on plans it sent with their replies' documents. */
  const list = async (filter: Record<string, unknown>, selection: string) => {
    finds.length = 0;
    const data = await gql<{ plans: { edges: { node: Node }[] } }>(`query($f: PlanFilter) { plans(filter: $f, first: 10) { edges { node { ${selection} } } } }`, { f: filter });
    const sent = finds.map((f) => ({ command: f.started.command as Document, docs: ((f.reply?.cursor as Document | undefined)?.firstBatch ?? []) as Document[] }));
    return { nodes: data.plans.edges.map((e) => e.node), sent };
  };
  const byId = async (planId: string, selection: string): Promise<Node> => (await gql<{ plan: Node }>(`query($id: ID!) { plan(planId: $id) { ${selection} } }`, { id: planId })).plan;

  let planIds: string[] = [];
  let late = '';

  beforeAll(async () => {
    planIds = [await propose('acct-heads'), await propose('acct-heads'), await propose('acct-heads')];
    // One plan APPROVED with its steps due in two seconds: overdue once they pass.
    late = await propose('acct-heads-late');
    const dueSoon = new Date(Date.now() + 2_000).toISOString();
    await gql(
      'mutation($id: ID!, $input: UpdateDraftPlanInput!) { updateDraftPlan(planId: $id, input: $input) { ok } }',
      { id: late, input: { steps: [{ actionType: 'REQUEST_RENEWAL_MEETING', dueAt: dueSoon }, { actionType: 'ESCALATE_SUPPORT_RISK', dueAt: dueSoon }] } },
      proposer,
    );
    expect((await gql<{ r: { ok: boolean } }>('mutation($id: ID!) { r: approvePlan(planId: $id) { ok } }', { id: late }, approver)).r.ok).toBe(true);
    await new Promise((r) => setTimeout(r, 2_200));
  });

  it('a selection without steps reads one page of heads: the store sends no steps', async () => {
    for (const filter of [{ accountId: 'acct-heads' }, { overdue: true }, { status: ['DRAFT'] }, {}]) {
      const { nodes, sent } = await list(filter, HEAD);
      expect(nodes.length).toBeGreaterThan(0);
      expect(sent).toHaveLength(1);
      expect(sent[0]!.command.projection).toBeDefined();
      expect(sent[0]!.command.projection).not.toHaveProperty('steps');
      expect(sent[0]!.docs.length).toBeGreaterThanOrEqual(nodes.length);
      for (const doc of sent[0]!.docs) {
        expect(doc).not.toHaveProperty('steps');
        expect(doc).not.toHaveProperty('proposal');
      }
      // The head's fields are the plan's own.
      for (const node of nodes) expect(node).toEqual(await byId(node.planId, HEAD));
    }
    expect((await list({ accountId: 'acct-heads' }, 'planId')).nodes.map((n) => n.planId).sort()).toEqual([...planIds].sort());
  });

  it('a selection with steps, however it asks for them, reads whole plans in one query and gets what plan(planId) gives', async () => {
    for (const selection of [`${HEAD} ${STEPS}`, `${HEAD} ... on Plan { openSteps }`, `${HEAD} ...Work`, `${HEAD} x: overdueSteps`]) {
      finds.length = 0;
      const res = await server.gql<{ plans: { edges: { node: Node }[] } }>(
        `query($f: PlanFilter) { plans(filter: $f, first: 10) { edges { node { ${selection} } } } }${selection.includes('...Work') ? ' fragment Work on Plan { steps { stepId rationale } }' : ''}`,
        { f: { accountId: 'acct-heads' } },
        viewer,
      );
      expect(res.errors).toBeUndefined();
      const nodes = res.data!.plans.edges.map((e) => e.node);
      expect(nodes.map((n) => n.planId).sort()).toEqual([...planIds].sort());
      expect(finds).toHaveLength(1);
      expect((finds[0]!.started.command as Document).projection).toBeUndefined();
      for (const node of nodes) expect(node).toEqual(await byId(node.planId, selection.replace('...Work', 'steps { stepId rationale }')));
    }
    const { nodes } = await list({ accountId: 'acct-heads' }, STEPS);
    expect(nodes.every((n) => (n.steps as unknown[]).length > 0 && n.openSteps === (n.steps as unknown[]).length)).toBe(true);
  });

  it('the overdue list: heads, and overdue work when asked', async () => {
    const heads = await list({ overdue: true }, 'planId status');
    expect(heads.nodes).toEqual([{ planId: late, status: 'APPROVED' }]);
    expect(heads.sent).toHaveLength(1);
    // The plan's own fields and the cursor's next_due_at; none of the steps or the store's bookkeeping.
    const [doc] = heads.sent[0]!.docs;
    expect(doc).toMatchObject({ _id: late, plan_status: 'APPROVED', next_due_at: expect.any(Date) });
    for (const field of ['steps', 'proposal', 'pending_event', 'active_slot', 'event_count', 'ledger_hash', 'open_assignee_1']) expect(doc).not.toHaveProperty(field);
    const withSteps = await list({ overdue: true }, 'planId openSteps overdueSteps steps { overdue }');
    expect(withSteps.nodes).toEqual([{ planId: late, openSteps: 2, overdueSteps: 2, steps: [{ overdue: true }, { overdue: true }] }]);
    expect(withSteps.sent).toHaveLength(1);
  });
});
