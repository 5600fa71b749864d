import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { MongoClient, type CommandStartedEvent, type Db, type Document } from 'mongodb';
import type { LedgerEventType, PlanStatus } from '../../src/domain/enums.js';
import { AppError } from '../../src/domain/errors.js';
import type { PlanStepV1, RevenuePlanV1 } from '../../src/domain/plan.js';
import { transitionFor } from '../../src/domain/lifecycleMatrix.js';
import { PLANS_COLLECTION, PLAN_LEDGER_COLLECTION, ensureIndexes } from '../../src/store/indexes.js';
import { PlanStore, planEventId, type PlanChangeDecision, type PlanChangeInput } from '../../src/store/PlanStore.js';
import { CrashingPlanStore } from '../support/crashingPlanStore.js';
import { openTestDb, testStoreUri, type TestDb } from '../support/testDb.js';
import { draftPlan, memoryLogger, rejectionCode } from './storeFixtures.js';

// PlanStore.change: the general "change an existing plan with one ledger event", as a new
// operation (here: step progress on an ACTIVE plan) uses it, on the real store through a
// driver client that records the commands it sends.

describe('PlanStore.change', () => {
  let t: TestDb;
  let client: MongoClient;
  let db: Db;
  let store: PlanStore;
  const logger = memoryLogger();
  const sent: CommandStartedEvent[] = [];
  const STORE_COLLECTIONS = new Set<unknown>([PLANS_COLLECTION, PLAN_LEDGER_COLLECTION]);

  beforeAll(async () => {
    t = await openTestDb('pchange');
    client = new MongoClient(testStoreUri(), { monitorCommands: true });
    await client.connect();
    db = client.db(t.dbName);
    await ensureIndexes(db);
    store = new PlanStore(db, { logger });
    client.on('commandStarted', (e) => {
      if (STORE_COLLECTIONS.has((e.command as Document)[e.commandName])) sent.push(e);
    });
  });
  afterAll(async () => {
    client.removeAllListeners('commandStarted');
    await client.close();
    await t.close();
  });

  const rawPlans = () => db.collection<{ _id: string } & Record<string, unknown>>(PLANS_COLLECTION);

  async function move(plan: RevenuePlanV1, from: PlanStatus, to: PlanStatus): Promise<RevenuePlanV1> {
    return store.transition({
      tenantId: plan.tenant_id,
      planId: plan.plan_id,
      from,
      to,
      event: { event_type: transitionFor(from, to)!.event_type, actor: 'arthur', data: { from, to } },
    });
  }

  /** A new plan of its own account, moved to ACTIVE. */
  async function activePlan(): Promise<RevenuePlanV1> {
    const plan = draftPlan({ account_id: `acc-${randomUUID()}` });
    await store.createPlan({ plan, event: { actor: 'paula', data: {} }, proposal: { proposal_id: 'p', source: 'RULES', dropped_steps: [] } });
    await move(plan, 'DRAFT', 'APPROVED');
    return move(plan, 'APPROVED', 'ACTIVE');
  }

  /** The plan's ledger as event types in seq order, after checking the chain against the plan. */
  async function story(plan: Pick<RevenuePlanV1, 'tenant_id' | 'plan_id'>): Promise<LedgerEventType[]> {
    expect(await store.verifyPlanLedger(plan.tenant_id, plan.plan_id)).toMatchObject({ valid: true, broken_at_seq: null });
    return (await store.ledger.listByPlan(plan.tenant_id, plan.plan_id, { first: 500 })).items.map((e) => e.event_type);
  }

  const withStep = (steps: readonly PlanStepV1[], stepId: string, status: PlanStepV1['status']): PlanStepV1[] =>
    steps.map((s) => (s.step_id === stepId ? { ...s, status } : s));

  /** A step-progress operation written on change: marks one step DONE, and completes the plan when it was the last. */
  function completeStep(plan: RevenuePlanV1, stepId: string, actor = 'olga'): PlanChangeInput {
    return {
      tenantId: plan.tenant_id,
      planId: plan.plan_id,
      event_type: 'STEP_COMPLETED',
      basedOn: plan,
      decide: (current, now): PlanChangeDecision => {
        if (current.plan_status !== 'ACTIVE') throw new AppError('INVALID_TRANSITION', `plan is ${current.plan_status}`);
        const step = current.steps.find((s) => s.step_id === stepId);
        if (!step) throw new AppError('NOT_FOUND', `no step ${stepId}`);
        if (step.status === 'DONE') throw new AppError('CONFLICT', `step ${stepId} is done already`);
        const steps = withStep(current.steps, stepId, 'DONE');
        const last = steps.every((s) => s.status === 'DONE');
        return {
          set: { steps, updated_at: now, ...(last ? { plan_status: 'COMPLETED' as const, completed_at: now, completion_reason: 'all_steps_done' as const } : {}) },
          event: { actor, data: { step_id: stepId, ...(last ? { plan_completed: true } : {}) } },
        };
      },
    };
  }

  it('sets what decide says and records its event, in the one conditional write of approvePlan', async () => {
    const plan = await activePlan();
    const [first] = plan.steps;
    const changed = await store.change(completeStep(plan, first!.step_id));
    expect(changed.steps.map((s) => s.status)).toEqual(['DONE', 'PENDING']);
    expect(changed.plan_status).toBe('ACTIVE');
    expect(await store.getPlanRepaired(plan.tenant_id, plan.plan_id)).toEqual(changed);
    expect(await story(plan)).toEqual(['PLAN_CREATED', 'PLAN_APPROVED', 'PLAN_ACTIVATED', 'STEP_COMPLETED']);
    const entry = (await store.ledger.listByPlan(plan.tenant_id, plan.plan_id, { first: 500 })).items[3];
    expect(entry).toMatchObject({ entry_id: planEventId(plan.tenant_id, plan.plan_id, 4), actor: 'olga', data: { step_id: first!.step_id } });
    expect(await rawPlans().findOne({ _id: plan.plan_id })).toMatchObject({ event_count: 4 });
  });

  it('completes the plan in the same write when decide moves its status, freeing the active slot', async () => {
    const plan = await activePlan();
    const [a, b] = plan.steps;
    const next = draftPlan({ account_id: plan.account_id });
    await store.createPlan({ plan: next, event: { actor: null, data: {} }, proposal: { proposal_id: 'p2', source: 'RULES', dropped_steps: [] } });
    await move(next, 'DRAFT', 'APPROVED');
    expect(await rejectionCode(move(next, 'APPROVED', 'ACTIVE'))).toBe('CONFLICT');
    const halfway = await store.change(completeStep(plan, a!.step_id));
    const done = await store.change(completeStep(halfway, b!.step_id));
    expect(done).toMatchObject({ plan_status: 'COMPLETED', completion_reason: 'all_steps_done' });
    expect(done.completed_at).toBeInstanceOf(Date);
    expect(await story(plan)).toEqual(['PLAN_CREATED', 'PLAN_APPROVED', 'PLAN_ACTIVATED', 'STEP_COMPLETED', 'STEP_COMPLETED']);
    // The slot moved with the status: the account's other plan may be ACTIVE now.
    expect(await rawPlans().findOne({ _id: plan.plan_id })).toMatchObject({ active_slot: plan.plan_id });
    expect((await move(next, 'APPROVED', 'ACTIVE')).plan_status).toBe('ACTIVE');
  });

  it('sends the 4 commands of approvePlan: the read the caller passes on, the conditional write, the entry, the clear', async () => {
    const plan = await activePlan();
    sent.length = 0;
    const read = await store.getPlanRepaired(plan.tenant_id, plan.plan_id);
    await store.change(completeStep(read!, plan.steps[0]!.step_id));
    expect(sent.map((e) => `${e.commandName} ${String((e.command as Document)[e.commandName])}`)).toEqual([
      `find ${PLANS_COLLECTION}`,
      `findAndModify ${PLANS_COLLECTION}`,
      `insert ${PLAN_LEDGER_COLLECTION}`,
      `update ${PLANS_COLLECTION}`,
    ]);
  });

  it('writes nothing when decide refuses, or when what it decides is not a valid change', async () => {
    const plan = await activePlan();
    const before = await rawPlans().findOne({ _id: plan.plan_id });
    const stepId = plan.steps[0]!.step_id;
    const decidingTo = (decision: PlanChangeDecision): PlanChangeInput => ({ ...completeStep(plan, stepId), decide: () => decision });
    const event = { actor: 'olga', data: {} };
    expect(await rejectionCode(store.change(completeStep(plan, 'no-such-step')))).toBe('NOT_FOUND');
    // Identity fields, required fields, invalid plans, moves the lifecycle forbids, unknown event types.
    expect(await rejectionCode(store.change(decidingTo({ set: { tenant_id: 'other' } as never, event })))).toBe('BAD_USER_INPUT');
    expect(await rejectionCode(store.change(decidingTo({ set: { active_slot: 'x' } as never, event })))).toBe('BAD_USER_INPUT');
    expect(await rejectionCode(store.change(decidingTo({ set: {}, unset: ['objective' as never], event })))).toBe('BAD_USER_INPUT');
    expect(await rejectionCode(store.change(decidingTo({ set: { steps: withStep(plan.steps, stepId, 'WHATEVER' as never) }, event })))).toBe('BAD_USER_INPUT');
    expect(await rejectionCode(store.change(decidingTo({ set: { plan_status: 'DRAFT' }, event })))).toBe('INVALID_TRANSITION');
    expect(await rejectionCode(store.change(decidingTo({ set: {}, event: { actor: 'olga', data: 'x' as never } })))).toBe('BAD_USER_INPUT');
    expect(await rejectionCode(store.change({ ...completeStep(plan, stepId), event_type: 'STEP_WAVED' as never }))).toBe('BAD_USER_INPUT');
    expect(await rejectionCode(store.change({ ...completeStep(plan, stepId), planId: randomUUID() }))).toBe('NOT_FOUND');
    expect(await rejectionCode(store.change({ ...completeStep(plan, stepId), tenantId: 'another-tenant' }))).toBe('NOT_FOUND');
    expect(await rawPlans().findOne({ _id: plan.plan_id })).toEqual(before);
    expect(await story(plan)).toEqual(['PLAN_CREATED', 'PLAN_APPROVED', 'PLAN_ACTIVATED']);
  });

  it('a crash between the commit and the ledger append is completed by the next read', async () => {
    const plan = await activePlan();
    class Crash extends Error {}
    const crashing = new CrashingPlanStore(db, { logger }, {
      afterPlanWrite: () => {
        throw new Crash('simulated crash');
      },
    });
    await expect(crashing.change(completeStep(plan, plan.steps[0]!.step_id))).rejects.toBeInstanceOf(Crash);
    expect((await rawPlans().findOne({ _id: plan.plan_id }))?.pending_event).toMatchObject({ event_type: 'STEP_COMPLETED' });
    expect((await store.ledger.listByPlan(plan.tenant_id, plan.plan_id, { first: 500 })).items).toHaveLength(3);
    const read = await store.getPlanRepaired(plan.tenant_id, plan.plan_id);
    expect(read?.steps.map((s) => s.status)).toEqual(['DONE', 'PENDING']);
    expect((await rawPlans().findOne({ _id: plan.plan_id }))?.pending_event).toBeUndefined();
    expect(await story(plan)).toEqual(['PLAN_CREATED', 'PLAN_APPROVED', 'PLAN_ACTIVATED', 'STEP_COMPLETED']);
  });

  it('asks decide again when the plan changed under it: concurrent changes all land, each event once, in order', async () => {
    const plan = await activePlan();
    const [a, b] = plan.steps;
    const others = [new PlanStore(db, { logger }), new PlanStore(db, { logger })];
    // Both start from the same (soon stale) plan; each decides again on the state the other left.
    const results = await Promise.all([store.change(completeStep(plan, a!.step_id, 'x')), others[0]!.change(completeStep(plan, b!.step_id, 'y'))]);
    const final = await others[1]!.getPlanRepaired(plan.tenant_id, plan.plan_id);
    expect(final).toMatchObject({ plan_status: 'COMPLETED', completion_reason: 'all_steps_done' });
    expect(final?.steps.every((s) => s.status === 'DONE')).toBe(true);
    expect(results.some((r) => r.plan_status === 'COMPLETED')).toBe(true);
    expect(await story(plan)).toEqual(['PLAN_CREATED', 'PLAN_APPROVED', 'PLAN_ACTIVATED', 'STEP_COMPLETED', 'STEP_COMPLETED']);
  });
});
