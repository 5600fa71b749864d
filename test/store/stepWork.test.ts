import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import type { PlanStatus } from '../../src/domain/enums.js';
import type { RevenuePlanV1 } from '../../src/domain/plan.js';
import { PLANS_COLLECTION, PLAN_LEDGER_COLLECTION, ensureIndexes } from '../../src/store/indexes.js';
import { PlanStore, type PlanChangeInput } from '../../src/store/PlanStore.js';
import { CrashingPlanStore } from '../support/crashingPlanStore.js';
import { openTestDb, testStoreUri, type TestDb } from '../support/testDb.js';
import { draftPlan, memoryLogger, stepMoveOf, transitionOf } from './storeFixtures.js';

// Step work in the store (docs/steps.md): the plan document keeps the fields the overdue and
// assignee lists query (next_due_at, open_assignee_N) in step with its status and steps, on
// every change; a step move that completes the plan is one write whose one event is
// PLAN_COMPLETED, and a crash after its commit is completed into exactly that one entry.

const DAY = 86_400_000;

describe('step work in the store', () => {
  let t: TestDb;
  let client: MongoClient;
  let db: Db;
  let store: PlanStore;
  const logger = memoryLogger();

  beforeAll(async () => {
    t = await openTestDb('stepwork');
    client = new MongoClient(testStoreUri());
    await client.connect();
    db = client.db(t.dbName);
    await ensureIndexes(db);
    store = new PlanStore(db, { logger });
  });
  afterAll(async () => {
    await client.close();
    await t.close();
  });

  const raw = async (planId: string) => (await db.collection<{ _id: string }>(PLANS_COLLECTION).findOne({ _id: planId }))!;
  const story = async (planId: string) =>
    (await db.collection(PLAN_LEDGER_COLLECTION).find({ plan_id: planId }).sort({ seq: 1 }).toArray()).map((e) => e.event_type as string);
  const move = (plan: RevenuePlanV1, from: PlanStatus, to: PlanStatus, on = store) => on.transition(transitionOf(plan, from, to));

  /** A DRAFT plan whose two steps are due in 2 and 5 days. */
  async function newPlan(): Promise<RevenuePlanV1> {
    const plan = draftPlan({ account_id: `acc-${randomUUID()}` });
    plan.steps = plan.steps.map((s, i) => ({ ...s, dependencies: [], due_at: new Date(plan.created_at.getTime() + (i === 0 ? 2 : 5) * DAY) }));
    await store.createPlan({ plan, event: { actor: 'paula', data: {} }, proposal: { proposal_id: 'p', source: 'RULES', dropped_steps: [] } });
    return plan;
  }

  const stepMove = stepMoveOf;


  it('keeps next_due_at and the open assignees with the status and the steps', async () => {
    const plan = await newPlan();
    const [first, second] = plan.steps.map((s) => s.due_at!);
    expect(await raw(plan.plan_id)).not.toHaveProperty('next_due_at');
    await move(plan, 'DRAFT', 'APPROVED');
    expect(await raw(plan.plan_id)).toMatchObject({ next_due_at: first, open_assignee_1: null });
    await move(plan, 'APPROVED', 'ACTIVE');
    await store.change(stepMove(plan, plan.steps[1]!.step_id, { kind: 'assign', assignee: 'bob' }));
    await store.change(stepMove(plan, plan.steps[0]!.step_id, { kind: 'assign', assignee: 'alice' }));
    expect(await raw(plan.plan_id)).toMatchObject({ next_due_at: first, open_assignee_1: 'alice', open_assignee_2: 'bob', open_assignee_3: null });
    await store.change(stepMove(plan, plan.steps[0]!.step_id, { kind: 'complete', note: null }));
    expect(await raw(plan.plan_id)).toMatchObject({ next_due_at: second, open_assignee_1: 'bob', open_assignee_2: null });
    await move(plan, 'ACTIVE', 'PAUSED');
    expect(await raw(plan.plan_id)).toMatchObject({ next_due_at: null, open_assignee_1: 'bob' });
    await move(plan, 'PAUSED', 'ACTIVE');
    expect(await raw(plan.plan_id)).toMatchObject({ next_due_at: second });
    // The last step: the plan completes in the same write, its one event PLAN_COMPLETED.
    const done = await store.change(stepMove(plan, plan.steps[1]!.step_id, { kind: 'skip', reason: 'covered' }));
    expect(done).toMatchObject({ plan_status: 'COMPLETED', completion_reason: 'all_steps_done' });
    expect(await raw(plan.plan_id)).toMatchObject({ plan_status: 'COMPLETED', next_due_at: null, open_assignee_1: null, active_slot: plan.plan_id });
    expect(await story(plan.plan_id)).toEqual([
      'PLAN_CREATED',
      'PLAN_APPROVED',
      'PLAN_ACTIVATED',
      'STEP_ASSIGNED',
      'STEP_ASSIGNED',
      'STEP_COMPLETED',
      'PLAN_PAUSED',
      'PLAN_RESUMED',
      'PLAN_COMPLETED',
    ]);
  });

  it('a finished plan is nobody\'s work: aborting clears the assignee fields', async () => {
    const plan = await newPlan();
    await move(plan, 'DRAFT', 'APPROVED');
    await move(plan, 'APPROVED', 'ACTIVE');
    await store.change(stepMove(plan, plan.steps[0]!.step_id, { kind: 'assign', assignee: 'alice' }));
    expect((await store.plans.listPlans(plan.tenant_id, { assignee: 'alice' })).items.map((p) => p.plan_id)).toContain(plan.plan_id);
    await move(plan, 'ACTIVE', 'ABORTED');
    expect(await raw(plan.plan_id)).toMatchObject({ open_assignee_1: null, next_due_at: null });
    expect((await store.plans.listPlans(plan.tenant_id, { assignee: 'alice' })).items.map((p) => p.plan_id)).not.toContain(plan.plan_id);
  });

  it('lists overdue plans most overdue first, in keyset pages, and refuses another list\'s cursor', async () => {
    const tenant = `t-overdue-${randomUUID()}`;
    const ids: string[] = [];
    for (const daysLate of [3, 9, 1, 5]) {
      const plan = draftPlan({ tenant_id: tenant, account_id: `acc-${randomUUID()}` });
      plan.steps = plan.steps.map((s) => ({ ...s, dependencies: [], due_at: new Date(Date.now() - daysLate * DAY) }));
      await store.createPlan({ plan, event: { actor: 'paula', data: {} }, proposal: { proposal_id: 'p', source: 'RULES', dropped_steps: [] } });
      await move(plan, 'DRAFT', 'APPROVED');
      ids.push(plan.plan_id);
    }
    const [three, nine, one, five] = ids;
    const first = await store.plans.listPlans(tenant, { overdueAt: new Date() }, { first: 2 });
    expect(first.items.map((p) => p.plan_id)).toEqual([nine, five]);
    expect(first.hasNextPage).toBe(true);
    const second = await store.plans.listPlans(tenant, { overdueAt: new Date() }, { first: 2, after: first.endCursor! });
    expect(second.items.map((p) => p.plan_id)).toEqual([three, one]);
    expect(second.hasNextPage).toBe(false);
    const plain = await store.plans.listPlans(tenant, {}, { first: 1 });
    await expect(store.plans.listPlans(tenant, { overdueAt: new Date() }, { after: plain.endCursor! })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('records the event type the final decision names, and refuses one that is not a ledger event type', async () => {
    const plan = await newPlan();
    await move(plan, 'DRAFT', 'APPROVED');
    await move(plan, 'APPROVED', 'ACTIVE');
    // The change was asked for as STEP_COMPLETED; the decision (an assignment) says STEP_ASSIGNED.
    await store.change(stepMove(plan, plan.steps[0]!.step_id, { kind: 'assign', assignee: 'alice' }));
    expect((await story(plan.plan_id)).at(-1)).toBe('STEP_ASSIGNED');
    const bogus: PlanChangeInput = { ...stepMove(plan, plan.steps[0]!.step_id, { kind: 'start' }) };
    const decide = bogus.decide;
    bogus.decide = (current, now) => ({ ...decide(current, now), event_type: 'NOT_AN_EVENT' as never });
    await expect(store.change(bogus)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(await story(plan.plan_id)).toHaveLength(4);
  });

  it('a crash after a completing move is committed leaves one PLAN_COMPLETED once repaired, and the chain verifies', async () => {
    const plan = await newPlan();
    await move(plan, 'DRAFT', 'APPROVED');
    await move(plan, 'APPROVED', 'ACTIVE');
    await store.change(stepMove(plan, plan.steps[0]!.step_id, { kind: 'complete', note: null }));
    class Crash extends Error {}
    const crashing = new CrashingPlanStore(db, { logger }, {
      afterPlanWrite: () => {
        throw new Crash('simulated crash');
      },
    });
    await expect(crashing.change(stepMove(plan, plan.steps[1]!.step_id, { kind: 'complete', note: 'done' }))).rejects.toBeInstanceOf(Crash);
    // Committed: the plan is COMPLETED with its event pending; a racing retry of the move is refused, not recorded twice.
    expect(await raw(plan.plan_id)).toMatchObject({ plan_status: 'COMPLETED', pending_event: { event_type: 'PLAN_COMPLETED' } });
    await expect(store.change(stepMove(plan, plan.steps[1]!.step_id, { kind: 'complete', note: 'done' }))).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    expect(await story(plan.plan_id)).toEqual(['PLAN_CREATED', 'PLAN_APPROVED', 'PLAN_ACTIVATED', 'STEP_COMPLETED', 'PLAN_COMPLETED']);
    expect(await store.verifyPlanLedger(plan.tenant_id, plan.plan_id)).toMatchObject({ valid: true, entries: 5 });
    expect(await raw(plan.plan_id)).not.toHaveProperty('pending_event');
  });
});
