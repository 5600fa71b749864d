import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { PlanStatus } from '../../src/domain/enums.js';
import type { RevenuePlanV1 } from '../../src/domain/plan.js';
import { transitionFor } from '../../src/domain/lifecycleMatrix.js';
import { PlanExpiry } from '../../src/services/lifecycle/PlanExpiry.js';
import { PLANS_COLLECTION, PLAN_LEDGER_COLLECTION, ensureIndexes } from '../../src/store/indexes.js';
import { PlanStore } from '../../src/store/PlanStore.js';
import { openTestDb, type TestDb } from '../support/testDb.js';
import { draftPlan, memoryLogger } from './storeFixtures.js';

// PlanExpiry against the real store: expiring is an ordinary transition (outbox, then the
// ledger), so any number of expirers racing, in one process or from several store instances
// (as several service processes would), write one PLAN_EXPIRED.
describe('PlanExpiry', () => {
  let t: TestDb;
  let store: PlanStore;
  const logger = memoryLogger();
  const tenant = `t-${randomUUID()}`;

  beforeAll(async () => {
    t = await openTestDb('expiry');
    await ensureIndexes(t.db);
    store = new PlanStore(t.db, { logger });
  });
  afterAll(async () => {
    await t.close();
  });

  const expiryOf = (s: PlanStore) => new PlanExpiry({ store: s, logger });
  const path: Record<PlanStatus, PlanStatus[]> = { DRAFT: [], APPROVED: ['APPROVED'], ACTIVE: ['APPROVED', 'ACTIVE'], PAUSED: ['APPROVED', 'ACTIVE', 'PAUSED'], COMPLETED: [], ABORTED: ['APPROVED', 'ABORTED'], EXPIRED: [] };

  async function planIn(status: PlanStatus, due: boolean): Promise<RevenuePlanV1> {
    let plan = (await store.createPlan({ plan: draftPlan({ tenant_id: tenant, account_id: `acc-${randomUUID()}` }), event: { actor: 'alice', data: {} }, proposal: { proposal_id: randomUUID(), source: 'RULES', dropped_steps: [] } })).plan;
    for (const to of path[status]) {
      const event_type = transitionFor(plan.plan_status, to)!.event_type;
      plan = await store.transition({ tenantId: tenant, planId: plan.plan_id, from: plan.plan_status, to, event: { event_type, actor: 'bob', data: {} } });
    }
    if (!due) return plan;
    const expires_at = new Date(Date.now() - 1000);
    await t.db.collection<{ _id: string }>(PLANS_COLLECTION).updateOne({ _id: plan.plan_id }, { $set: { expires_at } });
    return { ...plan, expires_at };
  }
  const expiredEvents = (planId: string) => t.db.collection(PLAN_LEDGER_COLLECTION).find({ plan_id: planId, event_type: 'PLAN_EXPIRED' }).toArray();

  it('N=12 expirers over 4 store instances: one PLAN_EXPIRED, every one of them sees EXPIRED', async () => {
    for (const status of ['ACTIVE', 'APPROVED'] as const) {
      const plan = await planIn(status, true);
      const stores = Array.from({ length: 4 }, () => new PlanStore(t.db, { logger }));
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => expiryOf(stores[i % 4]!).expireIfDue(plan, { trigger: 'expired_on_read', touchedBy: `reader-${i}` })));
      expect(new Set(results.map((p) => p.plan_status))).toEqual(new Set(['EXPIRED']));
      const events = await expiredEvents(plan.plan_id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ actor: 'system:expiry', data: { from: status, to: 'EXPIRED', trigger: 'expired_on_read' } });
      expect((await store.verifyPlanLedger(tenant, plan.plan_id)).valid).toBe(true);
      const stored = await t.db.collection<{ _id: string } & Record<string, unknown>>(PLANS_COLLECTION).findOne({ _id: plan.plan_id });
      expect({ status: stored?.plan_status, slot: stored?.active_slot, pending: stored?.pending_event ?? null, expiredAt: stored?.expired_at instanceof Date }).toEqual({ status: 'EXPIRED', slot: plan.plan_id, pending: null, expiredAt: true });
    }
  });

  it('leaves a plan alone that is not due, or whose status does not expire', async () => {
    for (const [status, due] of [['ACTIVE', false], ['APPROVED', false], ['DRAFT', true], ['PAUSED', true], ['ABORTED', true]] as const) {
      const plan = await planIn(status, due);
      expect((await expiryOf(store).expireIfDue(plan, { trigger: 'expired_by_sweep' })).plan_status).toBe(status);
      expect(await expiredEvents(plan.plan_id)).toEqual([]);
    }
  });

  it('answers what won when the plan moved first (its copy is stale)', async () => {
    const plan = await planIn('ACTIVE', true);
    await store.transition({ tenantId: tenant, planId: plan.plan_id, from: 'ACTIVE', to: 'PAUSED', event: { event_type: 'PLAN_PAUSED', actor: 'bob', data: {} } });
    const current = await expiryOf(store).expireIfDue(plan, { trigger: 'expired_on_read', touchedBy: 'vera' });
    expect(current.plan_status).toBe('PAUSED');
    expect(await expiredEvents(plan.plan_id)).toEqual([]);
  });

  it('sweeps exactly the due APPROVED and ACTIVE plans of every tenant', async () => {
    const due = [await planIn('ACTIVE', true), await planIn('APPROVED', true)];
    const notDue = [await planIn('ACTIVE', false), await planIn('PAUSED', true), await planIn('DRAFT', true)];
    const found = await store.plans.findExpiredIn(['APPROVED', 'ACTIVE'], new Date(), 500);
    const ids = new Set(found.map((f) => f.plan_id));
    for (const p of due) expect(ids.has(p.plan_id)).toBe(true);
    for (const p of notDue) expect(ids.has(p.plan_id)).toBe(false);
    expect(await expiryOf(store).sweep()).toBeGreaterThanOrEqual(2);
    for (const p of due) expect((await expiredEvents(p.plan_id)).map((e) => e.data.trigger)).toEqual(['expired_by_sweep']);
    for (const p of notDue) expect(await expiredEvents(p.plan_id)).toEqual([]);
    expect(await store.plans.findExpiredIn(['APPROVED', 'ACTIVE'], new Date(), 500)).toEqual([]);
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('runs the sweep on a timer until stopped', async () => {
    const plan = await planIn('ACTIVE', true);
    const sweeper = expiryOf(store).start({ intervalMs: 20 });
    for (let i = 0; i < 100 && (await expiredEvents(plan.plan_id)).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await sweeper.stop();
    expect(await expiredEvents(plan.plan_id)).toHaveLength(1);
  });
});
