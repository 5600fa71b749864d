import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { LedgerEventType, PlanStatus } from '../../src/domain/enums.js';
import type { RevenuePlanV1 } from '../../src/domain/plan.js';
import { transitionFor } from '../../src/domain/lifecycleMatrix.js';
import { PLANS_COLLECTION, PLAN_LEDGER_COLLECTION, ensureIndexes } from '../../src/store/indexes.js';
import { PlanStore, planEventId, type ProposalMeta } from '../../src/store/PlanStore.js';
import { readCreatedPlan } from '../../src/store/createdPlanCopy.js';
import { CrashingPlanStore, type PlanStoreFaults } from '../support/crashingPlanStore.js';
import { openTestDb, type TestDb } from '../support/testDb.js';
import { draftPlan, memoryLogger, rejectionCode } from './storeFixtures.js';

describe('PlanStore', () => {
  let t: TestDb;
  let store: PlanStore;
  const logger = memoryLogger();

  beforeAll(async () => {
    t = await openTestDb('pstore');
    await ensureIndexes(t.db);
    store = new PlanStore(t.db, { logger });
  });
  afterAll(async () => {
    await t.close();
  });

  const proposal: ProposalMeta = { proposal_id: 'prop-1', source: 'RULES', dropped_steps: [{ action_type: 'X', reason: 'disallowed_action_type' }] };
  const rawPlans = () => t.db.collection<{ _id: string } & Record<string, unknown>>(PLANS_COLLECTION);
  const rawLedger = () => t.db.collection<{ _id: string } & Record<string, unknown>>(PLAN_LEDGER_COLLECTION);

  class Crash extends Error {}
  /** A store whose process "dies" right after the given step (every time, until disarmed). */
  function crashingStore(at: keyof PlanStoreFaults): { store: PlanStore; disarm(): void } {
    let armed = true;
    const fault = () => {
      if (armed) throw new Crash('simulated crash');
    };
    return { store: new CrashingPlanStore(t.db, { logger }, { [at]: fault }), disarm: () => void (armed = false) };
  }

  async function created(overrides: Partial<RevenuePlanV1> = {}): Promise<RevenuePlanV1> {
    const plan = draftPlan({ account_id: `acc-${randomUUID()}`, ...overrides });
    return (await store.createPlan({ plan, event: { actor: 'alice', data: { trigger: 'proposal_generated' } }, proposal })).plan;
  }

  function move(plan: Pick<RevenuePlanV1, 'tenant_id' | 'plan_id'>, from: PlanStatus, to: PlanStatus, s: PlanStore = store) {
    return s.transition({
      tenantId: plan.tenant_id,
      planId: plan.plan_id,
      from,
      to,
      event: { event_type: transitionFor(from, to)?.event_type ?? 'PLAN_UPDATED', actor: 'bob', data: { from, to } },
    });
  }

  /** The plan's ledger as event types in seq order, after checking the chain. */
  async function story(plan: Pick<RevenuePlanV1, 'tenant_id' | 'plan_id'>): Promise<LedgerEventType[]> {
    const verification = await store.verifyPlanLedger(plan.tenant_id, plan.plan_id);
    expect(verification).toMatchObject({ valid: true, broken_at_seq: null });
    const page = await store.ledger.listByPlan(plan.tenant_id, plan.plan_id, { first: 500 });
    return page.items.map((e) => e.event_type);
  }

  const pendingOf = async (planId: string) => (await rawPlans().findOne({ _id: planId }))?.pending_event;

  describe('createPlan', () => {
    it('stores the DRAFT, its PLAN_CREATED event (deterministic id) and its proposal meta', async () => {
      const plan = draftPlan();
      const result = await store.createPlan({ plan, event: { actor: 'alice', data: { trigger: 'proposal_generated', input_summary: { signals: 2 } } }, proposal });
      expect(result).toEqual({ plan, proposal, created: true });
      expect(await store.getPlanRepaired('t1', plan.plan_id)).toEqual(plan);
      expect(await story(plan)).toEqual(['PLAN_CREATED']);
      const [entry] = (await store.ledger.listByPlan('t1', plan.plan_id)).items;
      expect(entry).toMatchObject({ entry_id: planEventId('t1', plan.plan_id, 1), actor: 'alice', account_id: plan.account_id, data: { trigger: 'proposal_generated', input_summary: { signals: 2 } } });
      expect(await pendingOf(plan.plan_id)).toBeUndefined();
      expect((await store.getPlanWithProposal('t1', plan.plan_id))?.proposal).toEqual(proposal);
      expect(await store.getPlanWithProposal('t1', plan.plan_id)).toEqual({ plan, proposal });
    });

    it('refuses non-DRAFT plans and bad input, storing nothing', async () => {
      const plan = draftPlan({ plan_status: 'APPROVED' });
      expect(await rejectionCode(store.createPlan({ plan, event: { actor: null, data: {} }, proposal }))).toBe('INVALID_TRANSITION');
      expect(await rejectionCode(store.createPlan({ plan: draftPlan(), event: { actor: null, data: { n: Number.NaN } }, proposal }))).toBe('BAD_USER_INPUT');
      expect(await rejectionCode(store.createPlan({ plan: draftPlan(), event: { actor: null, data: {} }, proposal: { ...proposal, source: 'MAGIC' as never } }))).toBe('BAD_USER_INPUT');
      expect(await rawPlans().countDocuments({ _id: plan.plan_id })).toBe(0);
    });

    it('is idempotent under races: 10 parallel creates of one plan_id give one plan and one PLAN_CREATED', async () => {
      const plan = draftPlan();
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          // Separate store instances: no shared in-process queue between the racers.
          new PlanStore(t.db, { logger }).createPlan({ plan: { ...plan, objective: `attempt ${i}` }, event: { actor: `u${i}`, data: { i } }, proposal: { ...proposal, proposal_id: `p${i}` } }),
        ),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const winner = results.find((r) => r.created)!;
      for (const r of results) {
        expect(r.plan).toEqual(winner.plan);
        expect(r.proposal).toEqual(winner.proposal);
      }
      expect(await rawPlans().countDocuments({ _id: plan.plan_id })).toBe(1);
      expect(await story(plan)).toEqual(['PLAN_CREATED']);
    });

    it('a plan_id of another tenant is CONFLICT and leaves that plan untouched and invisible', async () => {
      const plan = await created({ tenant_id: 't1' });
      const before = await rawPlans().findOne({ _id: plan.plan_id });
      expect(await rejectionCode(store.createPlan({ plan: { ...plan, tenant_id: 't2' }, event: { actor: null, data: {} }, proposal }))).toBe('CONFLICT');
      // Plan ids are unique by construction (random, or derived from the tenant and an
      // idempotency key); a forced clash leaves t2 a PLAN_CREATED entry but never the plan.
      expect(await store.getPlanRepaired('t2', plan.plan_id)).toBeNull();
      expect(await rejectionCode(move({ tenant_id: 't2', plan_id: plan.plan_id }, 'DRAFT', 'APPROVED'))).toBe('NOT_FOUND');
      expect(await rejectionCode(store.createPlan({ plan: { ...plan, tenant_id: 't2' }, event: { actor: null, data: {} }, proposal }))).toBe('CONFLICT');
      expect(await rawPlans().findOne({ _id: plan.plan_id })).toEqual(before);
      expect(await store.getPlanRepaired('t1', plan.plan_id)).toEqual(plan);
    });
  });

  describe('transition', () => {
    it('walks a plan through its lifecycle with one event per change', async () => {
      let plan = await created();
      for (const [from, to] of [['DRAFT', 'APPROVED'], ['APPROVED', 'ACTIVE'], ['ACTIVE', 'PAUSED'], ['PAUSED', 'ACTIVE'], ['ACTIVE', 'COMPLETED']] as const) {
        plan = await store.transition({
          tenantId: plan.tenant_id,
          planId: plan.plan_id,
          from,
          to,
          fields: to === 'COMPLETED' ? { completion_reason: 'all_steps_done' } : to === 'APPROVED' ? { approved_by: 'bob' } : {},
          event: { event_type: transitionFor(from, to)!.event_type, actor: 'bob', data: {} },
        });
        expect(plan.plan_status).toBe(to);
      }
      expect(plan).toMatchObject({ approved_by: 'bob', approved_at: expect.any(Date), completed_at: expect.any(Date), completion_reason: 'all_steps_done' });
      expect(await story(plan)).toEqual(['PLAN_CREATED', 'PLAN_APPROVED', 'PLAN_ACTIVATED', 'PLAN_PAUSED', 'PLAN_RESUMED', 'PLAN_COMPLETED']);
      const entries = (await store.ledger.listByPlan(plan.tenant_id, plan.plan_id)).items;
      expect(entries.map((e) => e.entry_id)).toEqual(entries.map((_, i) => planEventId(plan.tenant_id, plan.plan_id, i + 1)));
    });

    it('refuses illegal moves, wrong event types, stale `from`, missing plans', async () => {
      const plan = await created();
      expect(await rejectionCode(move(plan, 'DRAFT', 'ACTIVE'))).toBe('INVALID_TRANSITION');
      expect(await rejectionCode(move(plan, 'DRAFT', 'DRAFT'))).toBe('INVALID_TRANSITION');
      expect(await rejectionCode(store.transition({ tenantId: 't1', planId: plan.plan_id, from: 'DRAFT', to: 'APPROVED', event: { event_type: 'PLAN_ABORTED', actor: null, data: {} } }))).toBe('BAD_USER_INPUT');
      expect(await rejectionCode(move(plan, 'APPROVED', 'ACTIVE'))).toBe('CONFLICT');
      expect(await rejectionCode(move({ tenant_id: 't1', plan_id: randomUUID() }, 'DRAFT', 'APPROVED'))).toBe('NOT_FOUND');
      expect(await story(plan)).toEqual(['PLAN_CREATED']);
    });

    it('N=20 parallel approvals: exactly one succeeds and exactly one PLAN_APPROVED is recorded', async () => {
      const plan = await created();
      const stores = Array.from({ length: 4 }, () => new PlanStore(t.db, { logger }));
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => move(plan, 'DRAFT', 'APPROVED', stores[i % 4])));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'CONFLICT' });
      expect(await story(plan)).toEqual(['PLAN_CREATED', 'PLAN_APPROVED']);
    });

    it('two concurrent activations for one account and type: exactly one ACTIVE, the other a typed conflict', async () => {
      const account = `acc-${randomUUID()}`;
      const a = await created({ account_id: account });
      const b = await created({ account_id: account });
      await move(a, 'DRAFT', 'APPROVED');
      await move(b, 'DRAFT', 'APPROVED');
      const results = await Promise.allSettled([move(a, 'APPROVED', 'ACTIVE'), move(b, 'APPROVED', 'ACTIVE')]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'CONFLICT', details: { reason: 'ACTIVE_PLAN_EXISTS' } });
      expect(await store.plans.findActivePlanIds('t1', account, 'RENEWAL_DEFENSE')).toHaveLength(1);
      const stories = [await story(a), await story(b)].map((s) => s.join(','));
      expect(stories.sort()).toEqual(['PLAN_CREATED,PLAN_APPROVED', 'PLAN_CREATED,PLAN_APPROVED,PLAN_ACTIVATED']);
      // The loser has no pending event left behind.
      expect(await pendingOf(a.plan_id)).toBeUndefined();
      expect(await pendingOf(b.plan_id)).toBeUndefined();
    });
  });

  describe('updateDraft', () => {
    it('changes a DRAFT with a PLAN_UPDATED event; refuses anything not DRAFT', async () => {
      const plan = await created();
      const steps = [{ ...plan.steps[0]!, sequence: 1 }];
      const updated = await store.updateDraft({ tenantId: 't1', planId: plan.plan_id, changes: { objective: 'new', steps, constraints: null }, event: { actor: 'carol', data: { changed: ['objective', 'steps', 'constraints'] } } });
      expect(updated).toMatchObject({ objective: 'new', steps });
      expect(updated).not.toHaveProperty('constraints');
      expect(await store.getPlanRepaired('t1', plan.plan_id)).toEqual(updated);
      const later = await store.updateDraft({ tenantId: 't1', planId: plan.plan_id, changes: { constraints: { max_touches: 1 }, expires_at: new Date(Date.now() + 86_400_000) }, event: { actor: 'carol', data: {} } });
      expect(later.constraints).toEqual({ max_touches: 1 });
      expect(await rejectionCode(store.updateDraft({ tenantId: 't1', planId: plan.plan_id, changes: { steps: [{ bad: true }] as never }, event: { actor: null, data: {} } }))).toBe('BAD_USER_INPUT');
      expect(await rejectionCode(store.updateDraft({ tenantId: 't1', planId: plan.plan_id, changes: { plan_status: 'ACTIVE' } as never, event: { actor: null, data: {} } }))).toBe('BAD_USER_INPUT');
      await move(plan, 'DRAFT', 'APPROVED');
      expect(await rejectionCode(store.updateDraft({ tenantId: 't1', planId: plan.plan_id, changes: { objective: 'late' }, event: { actor: null, data: {} } }))).toBe('INVALID_TRANSITION');
      expect(await rejectionCode(store.updateDraft({ tenantId: 't2', planId: plan.plan_id, changes: { objective: 'x' }, event: { actor: null, data: {} } }))).toBe('NOT_FOUND');
      expect(await story(plan)).toEqual(['PLAN_CREATED', 'PLAN_UPDATED', 'PLAN_UPDATED', 'PLAN_APPROVED']);
    });
  });

  describe('a crash between the writes', () => {
    it('createPlan: a crash between the two inserts leaves the PLAN_CREATED entry; the retry restores the plan from it', async () => {
      const crashing = crashingStore('afterLedgerAppend');
      const plan = draftPlan();
      const input = { plan, event: { actor: 'alice', data: { trigger: 'proposal_generated' } }, proposal };
      await expect(crashing.store.createPlan(input)).rejects.toBeInstanceOf(Crash);
      expect(await rawPlans().countDocuments({ _id: plan.plan_id })).toBe(0);
      expect(await rawLedger().countDocuments({ plan_id: plan.plan_id })).toBe(1);
      // The retry of another attempt (another generated draft) gets the plan the ledger recorded.
      const retry = await store.createPlan({ ...input, plan: { ...plan, objective: 'a second draft' } });
      expect(retry).toEqual({ plan, proposal, created: false });
      expect(await rawPlans().findOne({ _id: plan.plan_id })).toMatchObject({ event_count: 1, objective: plan.objective });
      expect(await pendingOf(plan.plan_id)).toBeUndefined();
      expect(await story(plan)).toEqual(['PLAN_CREATED']);
    });

    it('createPlan: a read by id restores it (and only for its own tenant)', async () => {
      const crashing = crashingStore('afterLedgerAppend');
      const plan = draftPlan();
      await expect(crashing.store.createPlan({ plan, event: { actor: null, data: {} }, proposal })).rejects.toBeInstanceOf(Crash);
      expect(await store.getPlanRepaired('t2', plan.plan_id)).toBeNull();
      expect(await rawPlans().countDocuments({ _id: plan.plan_id })).toBe(0);
      expect(await store.getPlanRepaired('t1', plan.plan_id)).toEqual(plan);
      expect((await store.getPlanWithProposal('t1', plan.plan_id))?.proposal).toEqual(proposal);
      expect(await story(plan)).toEqual(['PLAN_CREATED']);
      // The restored plan takes its next change like any other.
      await move(plan, 'DRAFT', 'APPROVED');
      expect(await story(plan)).toEqual(['PLAN_CREATED', 'PLAN_APPROVED']);
    });

    it('createPlan: the copy leaves out what the entry\'s data holds of the plan; a restore takes it from there, and reads a whole copy written before', async () => {
      const plan = draftPlan({ renewal_date: '2027-01-07' });
      plan.steps = plan.steps.map((s, i) => ({ ...s, rationale: `why ${i}`, evidence: [{ source: 'POSTURE', index: null, field: 'health' }], due_at: new Date(Date.UTC(2026, 11, 20)), owner_role: 'CSM' }));
      const data = {
        objective: plan.objective,
        account_id: plan.account_id,
        steps: plan.steps.map((s) => ({ step_id: s.step_id, action_type: s.action_type, rationale: s.rationale, evidence: s.evidence, owner_role: s.owner_role })),
      };
      await expect(crashingStore('afterLedgerAppend').store.createPlan({ plan, event: { actor: null, data }, proposal })).rejects.toBeInstanceOf(Crash);
      const entry = await rawLedger().findOne({ _id: planEventId('t1', plan.plan_id, 1) });
      expect(readCreatedPlan(entry?.created_plan)).toMatchObject({ from_data: { plan: ['account_id', 'objective'], steps: ['action_type', 'rationale', 'evidence', 'owner_role'] }, proposal });
      expect(JSON.stringify(entry?.created_plan)).not.toContain('why 0');
      expect(await store.getPlanRepaired('t1', plan.plan_id)).toEqual(plan);
      expect(await story(plan)).toEqual(['PLAN_CREATED']);

      // A copy written before copies were compacted: the whole plan as a document, no from_data.
      const older = draftPlan();
      await expect(crashingStore('afterLedgerAppend').store.createPlan({ plan: older, event: { actor: null, data: { objective: 'not the plan\'s' } }, proposal })).rejects.toBeInstanceOf(Crash);
      await rawLedger().updateOne({ _id: planEventId('t1', older.plan_id, 1) }, { $set: { created_plan: { plan: older, proposal } } });
      expect(await store.getPlanRepaired('t1', older.plan_id)).toEqual(older);
      expect((await store.getPlanWithProposal('t1', older.plan_id))?.proposal).toEqual(proposal);
      expect(await story(older)).toEqual(['PLAN_CREATED']);
    });

    it('createPlan: a change of a plan whose document was lost restores it first', async () => {
      const crashing = crashingStore('afterLedgerAppend');
      const plan = draftPlan();
      await expect(crashing.store.createPlan({ plan, event: { actor: null, data: {} }, proposal })).rejects.toBeInstanceOf(Crash);
      await move(plan, 'DRAFT', 'APPROVED');
      expect(await story(plan)).toEqual(['PLAN_CREATED', 'PLAN_APPROVED']);
    });

    it('createPlan: a failed plan insert is restored by the same instance\'s sweep (its repair list) without a scan', async () => {
      let failing = true;
      const flaky = new CrashingPlanStore(
        t.db,
        { logger },
        {
          afterLedgerAppend: () => {
            if (failing) throw new Crash('the store went away');
          },
        },
      );
      const plan = draftPlan();
      await expect(flaky.createPlan({ plan, event: { actor: null, data: {} }, proposal })).rejects.toBeInstanceOf(Crash);
      failing = false;
      expect(await flaky.outbox.repairOlderThan(0, 500, { scan: false })).toBe(1);
      expect(await flaky.outbox.repairOlderThan(0, 500, { scan: false })).toBe(0);
      expect(await rawPlans().findOne({ _id: plan.plan_id })).toMatchObject({ event_count: 1, tenant_id: 't1' });
      expect(await story(plan)).toEqual(['PLAN_CREATED']);
    });

    it('transition: the next transition completes the pending one first, in order', async () => {
      const plan = await created();
      const crashing = crashingStore('afterPlanWrite');
      await expect(move(plan, 'DRAFT', 'APPROVED', crashing.store)).rejects.toBeInstanceOf(Crash);
      expect((await store.plans.getStored('t1', plan.plan_id))!.plan.plan_status).toBe('APPROVED');
      expect((await store.ledger.listByPlan('t1', plan.plan_id, { first: 500 })).items.map((e) => e.event_type)).toEqual(['PLAN_CREATED']);
      expect(await pendingOf(plan.plan_id)).toBeDefined();
      await move(plan, 'APPROVED', 'ABORTED');
      expect(await story(plan)).toEqual(['PLAN_CREATED', 'PLAN_APPROVED', 'PLAN_ABORTED']);
    });

    it('transition: verification completes a pending event before judging the chain', async () => {
      const plan = await created();
      const crashing = crashingStore('afterPlanWrite');
      await expect(move(plan, 'DRAFT', 'APPROVED', crashing.store)).rejects.toBeInstanceOf(Crash);
      expect(await store.verifyPlanLedger('t1', plan.plan_id)).toMatchObject({ valid: true, entries: 2 });
      expect(await pendingOf(plan.plan_id)).toBeUndefined();
    });

    it('transition: a retry of the same call sees the change done (CONFLICT), and the event is recorded once', async () => {
      const plan = await created();
      const crashing = crashingStore('afterPlanWrite');
      await expect(move(plan, 'DRAFT', 'APPROVED', crashing.store)).rejects.toBeInstanceOf(Crash);
      expect(await rejectionCode(move(plan, 'DRAFT', 'APPROVED'))).toBe('CONFLICT');
      expect(await story(plan)).toEqual(['PLAN_CREATED', 'PLAN_APPROVED']);
    });

    it('transition: a crash after the ledger append, before the clear, is completed without a second event', async () => {
      const plan = await created();
      const crashing = crashingStore('afterLedgerAppend');
      await expect(move(plan, 'DRAFT', 'APPROVED', crashing.store)).rejects.toBeInstanceOf(Crash);
      expect(await pendingOf(plan.plan_id)).toBeDefined();
      expect(await store.outbox.repair('t1', plan.plan_id)).toBe(true);
      expect(await store.outbox.repair('t1', plan.plan_id)).toBe(false);
      expect(await story(plan)).toEqual(['PLAN_CREATED', 'PLAN_APPROVED']);
    });

    it('updateDraft and the repair sweep: every half-written change is completed once, across tenants', async () => {
      const crashing = crashingStore('afterPlanWrite');
      const a = await created({ tenant_id: 't1' });
      const b = await created({ tenant_id: 't2' });
      await expect(crashing.store.updateDraft({ tenantId: 't1', planId: a.plan_id, changes: { objective: 'edited' }, event: { actor: 'carol', data: {} } })).rejects.toBeInstanceOf(Crash);
      await expect(move(b, 'DRAFT', 'APPROVED', crashing.store)).rejects.toBeInstanceOf(Crash);
      const fresh = draftPlan({ tenant_id: 't3' });
      await expect(crashingStore('afterLedgerAppend').store.createPlan({ plan: fresh, event: { actor: null, data: {} }, proposal })).rejects.toBeInstanceOf(Crash);

      // Too young for the sweep: their writers may still be finishing.
      expect(await store.outbox.repairOlderThan(60_000)).toBe(0);
      const repaired = await store.outbox.repairOlderThan(0);
      expect(repaired).toBeGreaterThanOrEqual(2);
      expect(await store.outbox.repairOlderThan(0)).toBe(0);
      // The lost plan document has no pending event to find: the start-up sweep's ledger query restores it.
      expect(await store.outbox.restoreSince(new Date(Date.now() + 60_000))).toBe(0);
      expect(await store.outbox.restoreSince(new Date(0))).toBeGreaterThanOrEqual(1);
      expect(await store.outbox.restoreSince(new Date(0))).toBe(0);
      expect((await store.plans.getStored('t1', a.plan_id))!.plan.objective).toBe('edited');
      expect(await story(a)).toEqual(['PLAN_CREATED', 'PLAN_UPDATED']);
      expect(await story(b)).toEqual(['PLAN_CREATED', 'PLAN_APPROVED']);
      expect((await store.plans.getStored('t3', fresh.plan_id))?.plan).toEqual(fresh);
      expect(await story(fresh)).toEqual(['PLAN_CREATED']);
      // Concurrent repairs (sweep, reads, retries at once) still record each event once.
      const c = await created();
      await expect(move(c, 'DRAFT', 'APPROVED', crashing.store)).rejects.toBeInstanceOf(Crash);
      await Promise.all([store.outbox.repairOlderThan(0), store.getPlanRepaired('t1', c.plan_id), new PlanStore(t.db, { logger }).outbox.repair('t1', c.plan_id), store.outbox.repair('t1', c.plan_id)]);
      expect(await story(c)).toEqual(['PLAN_CREATED', 'PLAN_APPROVED']);
    });

    it('the periodic sweep runs and stops', async () => {
      const plan = await created();
      const crashing = crashingStore('afterPlanWrite');
      await expect(move(plan, 'DRAFT', 'APPROVED', crashing.store)).rejects.toBeInstanceOf(Crash);
      const sweeper = store.outbox.startRepairTimer({ intervalMs: 20, olderThanMs: 0 });
      const deadline = Date.now() + 5000;
      while ((await pendingOf(plan.plan_id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await sweeper.stop();
      expect(await story(plan)).toEqual(['PLAN_CREATED', 'PLAN_APPROVED']);
    });
  });

  describe('tenant isolation', () => {
    it('no method reads or changes another tenant\'s plan', async () => {
      const plan = await created({ tenant_id: 't1' });
      const before = await rawPlans().findOne({ _id: plan.plan_id });
      expect(await store.getPlanRepaired('t2', plan.plan_id)).toBeNull();
      expect(await store.getPlanWithProposal('t2', plan.plan_id)).toBeNull();
      expect(await store.getPlanWithProposal('t2', plan.plan_id)).toBeNull();
      expect(await store.outbox.repair('t2', plan.plan_id)).toBe(false);
      expect(await rejectionCode(move({ tenant_id: 't2', plan_id: plan.plan_id }, 'DRAFT', 'APPROVED'))).toBe('NOT_FOUND');
      expect(await store.verifyPlanLedger('t2', plan.plan_id)).toMatchObject({ entries: 0 });
      expect(await rawPlans().findOne({ _id: plan.plan_id })).toEqual(before);
      expect(await story(plan)).toEqual(['PLAN_CREATED']);
    });
  });
});
