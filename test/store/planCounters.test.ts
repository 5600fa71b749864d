import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import type { PlanStatus } from '../../src/domain/enums.js';
import type { RevenuePlanV1 } from '../../src/domain/plan.js';
import { StatusCounts, tallyOf, type StatusCount } from '../../src/domain/planTally.js';
import type { StepMove } from '../../src/domain/stepProgress.js';
import { PLANS_COLLECTION, ensureIndexes } from '../../src/store/indexes.js';
import { PLAN_COUNTERS_COLLECTION } from '../../src/store/planCounterIndexes.js';
import { PlanCounters, WORK_FIELDS_BACKFILL } from '../../src/store/PlanCounters.js';
import { acquireLease, releaseLease, type LeaseDoc } from '../../src/store/leases.js';
import { PlanRepository } from '../../src/store/PlanRepository.js';
import { PlanStore } from '../../src/store/PlanStore.js';
import { TALLY_MARK, takeMarked } from '../../src/store/tallyMark.js';
import { openTestDb, type TestDb } from '../support/testDb.js';
import { draftPlan, memoryLogger, stepMoveOf, transitionOf } from './storeFixtures.js';

// Kept counts (docs/store.md, "Kept counts"): planStatusCounts reads a counter document kept by
// a tally job off the request path. Each test compares the kept counts with the counts of the
// plans themselves (read one by one and counted here), before the job ran, after it, after a
// crash at each point of a batch, under concurrent changes, and after the start-up backfill.

const DAY = 86_400_000;
const HOUR = 3_600_000;

describe('kept plan counts', () => {
  let t: TestDb;
  let db: Db;
  let store: PlanStore;
  const logger = memoryLogger();

  beforeAll(async () => {
    t = await openTestDb('counters');
    db = t.db;
    await ensureIndexes(db);
    store = new PlanStore(db, { logger });
    await store.counters.backfill();
  });
  afterAll(() => t.close());

  const move = (plan: RevenuePlanV1, from: PlanStatus, to: PlanStatus) => store.transition(transitionOf(plan, from, to));
  const stepMove = (plan: RevenuePlanV1, stepId: string, what: StepMove) => store.change(stepMoveOf(plan, stepId, what));

  /** A DRAFT plan of `tenant` whose steps fell (or fall) due at these offsets from now. */
  async function newPlan(tenant: string, dueOffsets: [number, number]): Promise<RevenuePlanV1> {
    const plan = draftPlan({ tenant_id: tenant, account_id: `acc-${randomUUID()}` });
    plan.steps = plan.steps.map((s, i) => ({ ...s, dependencies: [], due_at: new Date(Date.now() + dueOffsets[i]!) }));
    await store.createPlan({ plan, event: { actor: 'paula', data: {} }, proposal: { proposal_id: 'p', source: 'RULES', dropped_steps: [] } });
    return plan;
  }

  /** The counts of the tenant's plans, each read and counted here. */
  async function countedOneByOne(tenant: string, now: Date): Promise<StatusCount[]> {
    const counts = new StatusCounts();
    const repo = new PlanRepository(db);
    for (let page = await repo.listPlans(tenant, {}, { first: 100 }); ; page = await repo.listPlans(tenant, {}, { first: 100, after: page.endCursor! })) {
      for (const plan of page.items) counts.addTally(tallyOf(plan), now);
      if (!page.hasNextPage) break;
    }
    return counts.toRows();
  }

  const marked = (tenant: string) => db.collection(PLANS_COLLECTION).countDocuments({ tenant_id: tenant, [TALLY_MARK]: { $exists: true } });
  const counterDoc = (tenant: string) => db.collection<{ _id: string }>(PLAN_COUNTERS_COLLECTION).findOne({ _id: tenant });

  /** A tenant with plans in several statuses, overdue steps, a step due earlier today and a completed plan. */
  async function busyTenant(): Promise<{ tenant: string; plans: RevenuePlanV1[] }> {
    const tenant = `t-${randomUUID()}`;
    const late = await newPlan(tenant, [-3 * DAY, 2 * DAY]);
    const lateToday = await newPlan(tenant, [-Math.min(HOUR, msIntoToday() / 2), 5 * DAY]);
    const draft = await newPlan(tenant, [-DAY, DAY]);
    const paused = await newPlan(tenant, [-2 * DAY, -DAY]);
    const done = await newPlan(tenant, [DAY, 2 * DAY]);
    for (const plan of [late, lateToday, paused, done]) await move(plan, 'DRAFT', 'APPROVED');
    for (const plan of [late, paused, done]) await move(plan, 'APPROVED', 'ACTIVE');
    await move(paused, 'ACTIVE', 'PAUSED');
    await stepMove(late, late.steps[1]!.step_id, { kind: 'complete', note: null });
    await stepMove(done, done.steps[0]!.step_id, { kind: 'complete', note: null });
    await stepMove(done, done.steps[1]!.step_id, { kind: 'skip', reason: 'covered' });
    return { tenant, plans: [late, lateToday, draft, paused, done] };
  }

  it('counts plans, open and overdue steps exactly, before the tally job and after it', async () => {
    const { tenant } = await busyTenant();
    const now = new Date();
    const expected = await countedOneByOne(tenant, now);
    expect(expected).toEqual([
      { status: 'DRAFT', count: 1, openSteps: 2, overdueSteps: 0 },
      { status: 'APPROVED', count: 1, openSteps: 2, overdueSteps: 1 },
      { status: 'ACTIVE', count: 1, openSteps: 1, overdueSteps: 1 },
      { status: 'PAUSED', count: 1, openSteps: 2, overdueSteps: 0 },
      { status: 'COMPLETED', count: 1, openSteps: 0, overdueSteps: 0 },
    ]);
    // Nothing tallied yet: every plan is marked, the read adds them all.
    expect(await marked(tenant)).toBe(5);
    expect(await store.counters.statusCounts(tenant, {}, now)).toEqual(expected);
    expect(await store.counters.tallyTenant(tenant)).toBe(5);
    expect(await marked(tenant)).toBe(0);
    expect(await store.counters.statusCounts(tenant, {}, now)).toEqual(expected);
    expect(await store.counters.statusCounts(tenant, { planType: 'RENEWAL_DEFENSE' }, now)).toEqual(expected);
    // Time moves on: a step falls due, and the count follows without any write.
    const later = new Date(now.getTime() + 1.5 * DAY);
    expect(await store.counters.statusCounts(tenant, {}, later)).toEqual(await countedOneByOne(tenant, later));
    expect((await store.counters.statusCounts(tenant, {}, later)).find((r) => r.status === 'ACTIVE')?.overdueSteps).toBe(1);
    expect((await store.counters.statusCounts(tenant, {}, later)).find((r) => r.status === 'APPROVED')?.overdueSteps).toBe(1);
  });

  it('counts one account from its plans', async () => {
    const { tenant, plans } = await busyTenant();
    expect(await store.counters.statusCounts(tenant, { accountId: plans[0]!.account_id })).toEqual([{ status: 'ACTIVE', count: 1, openSteps: 1, overdueSteps: 1 }]);
  });

  for (const crashAt of ['after-journal', 'after-tallies'] as const) {
    it(`stays exact when a tally batch stops ${crashAt.replace('-', ' the ')}, and the next run settles it`, async () => {
      const { tenant, plans } = await busyTenant();
      const crashing = new PlanCounters(db, { logger, crashAt });
      await expect(crashing.tallyTenant(tenant)).rejects.toHaveProperty(['cause', 'message'], expect.stringContaining('simulated crash'));
      expect(await counterDoc(tenant)).toHaveProperty('journal');
      const now = new Date();
      expect(await store.counters.statusCounts(tenant, {}, now)).toEqual(await countedOneByOne(tenant, now));
      // A change while the journal waits: the plan is marked again.
      await move(plans[2]!, 'DRAFT', 'APPROVED');
      expect(await store.counters.statusCounts(tenant, {}, now)).toEqual(await countedOneByOne(tenant, now));
      // A new process (a new PlanCounters) settles the journal, then tallies the new mark.
      const next = new PlanCounters(db, { logger });
      await next.tallyAll();
      expect(await counterDoc(tenant)).not.toHaveProperty('journal');
      expect(await marked(tenant)).toBe(0);
      expect(await next.statusCounts(tenant, {}, now)).toEqual(await countedOneByOne(tenant, now));
    });
  }

  it('a process killed between the plan writes and any counter write: the next one counts exactly', async () => {
    // The plan writes are done; no tally job ever ran for them (the process is gone).
    const { tenant } = await busyTenant();
    const now = new Date();
    const restarted = new PlanCounters(db, { logger });
    expect(await restarted.statusCounts(tenant, {}, now)).toEqual(await countedOneByOne(tenant, now));
    await restarted.tallyAll();
    expect(await restarted.statusCounts(tenant, {}, now)).toEqual(await countedOneByOne(tenant, now));
  });

  it('tallies the tenants this process marked on every run, and finds marks another process left when it looks', async () => {
    await store.counters.tallyAll();
    // A plan of another process: marked in the store, not noted in this one.
    const elsewhere = `t-elsewhere-${randomUUID()}`;
    await newPlan(elsewhere, [DAY, 2 * DAY]);
    takeMarked(db.databaseName);
    const { tenant: here } = await busyTenant();
    expect(await store.counters.tallyAll({ discover: false })).toBe(5);
    expect(await marked(here)).toBe(0);
    expect(await marked(elsewhere)).toBe(1);
    expect(await store.counters.tallyAll({ discover: false })).toBe(0);
    expect(await store.counters.tallyAll()).toBe(1);
    expect(await marked(elsewhere)).toBe(0);
    const now = new Date();
    expect(await store.counters.statusCounts(elsewhere, {}, now)).toEqual(await countedOneByOne(elsewhere, now));
    expect(await store.counters.statusCounts(here, {}, now)).toEqual(await countedOneByOne(here, now));
  });

  it('tries a tenant whose lease another instance holds again on the next run, without a look at the store', async () => {
    await store.counters.tallyAll();
    const { tenant } = await busyTenant();
    const leases = db.collection<LeaseDoc>('plan_counter_leases');
    expect(await acquireLease(leases, `tally:${tenant}`, 'another-instance', new Date(), 60_000)).toBe(true);
    expect(await store.counters.tallyAll({ discover: false })).toBe(0);
    expect(await marked(tenant)).toBe(5);
    await releaseLease(leases, `tally:${tenant}`, 'another-instance');
    expect(await store.counters.tallyAll({ discover: false })).toBe(5);
    expect(await marked(tenant)).toBe(0);
  });

  it('is exact under many concurrent transitions with two tally jobs running', async () => {
    const tenant = `t-race-${randomUUID()}`;
    const plans = await Promise.all(Array.from({ length: 24 }, (_v, i) => newPlan(tenant, [(i % 5) * DAY - 2 * DAY, 3 * DAY])));
    const jobs = [new PlanCounters(db, { logger }), new PlanCounters(db, { logger })];
    let racing = true;
    const tallying = jobs.map(async (job) => {
      while (racing) await job.tallyTenant(tenant, 5);
    });
    // Reads meanwhile: whatever moved, every plan is counted once (a read that a batch overtook reads again).
    const totals: number[] = [];
    const reading = (async () => {
      while (racing) totals.push((await jobs[0]!.statusCounts(tenant)).reduce((n, r) => n + r.count, 0));
    })();
    await Promise.all(
      plans.map(async (plan, i) => {
        await move(plan, 'DRAFT', 'APPROVED');
        if (i % 3 === 0) return;
        await move(plan, 'APPROVED', 'ACTIVE');
        if (i % 3 === 1) await stepMove(plan, plan.steps[0]!.step_id, { kind: 'complete', note: null });
        else await move(plan, 'ACTIVE', 'ABORTED');
      }),
    );
    racing = false;
    await Promise.all([...tallying, reading]);
    expect(totals.length).toBeGreaterThan(0);
    expect(new Set(totals)).toEqual(new Set([24]));
    const now = new Date();
    expect(await jobs[0]!.statusCounts(tenant, {}, now)).toEqual(await countedOneByOne(tenant, now));
    await jobs[1]!.tallyAll();
    expect(await marked(tenant)).toBe(0);
    const counted = await countedOneByOne(tenant, now);
    expect(counted.map((r) => r.count)).toEqual([8, 8, 8]);
    expect(await jobs[0]!.statusCounts(tenant, {}, now)).toEqual(counted);
  });

  it('the repair recounts from the plans: a write without a mark and a counter document that drifted', async () => {
    const { tenant, plans } = await busyTenant();
    await store.counters.tallyTenant(tenant);
    const now = new Date();
    // As an instance of an older version writes: no mark. And a counter document edited by hand.
    await db.collection(PLANS_COLLECTION).updateOne({ _id: plans[2]!.plan_id } as never, { $set: { plan_status: 'ABORTED' } });
    await db.collection<{ _id: string }>(PLAN_COUNTERS_COLLECTION).updateOne({ _id: tenant }, { $inc: { 'c.RENEWAL_DEFENSE.PAUSED.plans': 5 } });
    expect(await store.counters.statusCounts(tenant, {}, now)).not.toEqual(await countedOneByOne(tenant, now));
    expect(await store.counters.repairTenant(tenant)).toEqual({ marked: 1, rebuilt: true });
    expect(logger.lines.map((l) => l.msg)).toContain('kept plan counts disagreed with the counted plans; rebuilt from them');
    // Exact again at once (the marked plan is added by the read), and after the job.
    expect(await store.counters.statusCounts(tenant, {}, now)).toEqual(await countedOneByOne(tenant, now));
    await store.counters.tallyAll();
    expect(await store.counters.statusCounts(tenant, {}, now)).toEqual(await countedOneByOne(tenant, now));
    expect(await store.counters.repairTenant(tenant)).toEqual({ marked: 0, rebuilt: false });
    expect(await store.counters.repairAll()).toBe(0);
  });

  it('backfills plans written before the derived fields existed, once, and counts them', async () => {
    const { tenant, plans } = await busyTenant();
    const [late] = plans;
    const before = await db.collection(PLANS_COLLECTION).findOne({ _id: late!.plan_id } as never);
    // As an older version left them: no derived fields, no mark, no tallies, the backfill not done.
    await db.collection(PLANS_COLLECTION).updateMany({ tenant_id: tenant }, { $unset: { next_due_at: '', open_assignee_1: '', open_assignee_2: '', open_assignee_3: '', [TALLY_MARK]: '' } });
    await db.collection('store_migrations').deleteOne({ _id: WORK_FIELDS_BACKFILL } as never);
    const fresh = new PlanCounters(db, { logger });
    const now = new Date();
    // Until the backfill is done, the tenant's counts come from its plans.
    expect(await fresh.statusCounts(tenant, {}, now)).toEqual(await countedOneByOne(tenant, now));
    expect(await fresh.backfill()).toBeGreaterThanOrEqual(plans.length);
    expect(await fresh.backfill()).toBe(0);
    const after = await db.collection(PLANS_COLLECTION).findOne({ _id: late!.plan_id } as never);
    expect(after).toMatchObject({ next_due_at: before!.next_due_at, open_assignee_1: null });
    expect(after).toHaveProperty(TALLY_MARK);
    expect(await store.plans.listPlans(tenant, { overdueAt: now })).toMatchObject({ items: [{ plan_id: late!.plan_id }, { plan_id: plans[1]!.plan_id }] });
    await fresh.tallyAll();
    expect(await fresh.statusCounts(tenant, {}, now)).toEqual(await countedOneByOne(tenant, now));
  });
});

/** Milliseconds since today's UTC midnight (at least one). */
function msIntoToday(): number {
  return Math.max(1, Date.now() % DAY);
}
