import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { PLAN_STATUSES, type PlanStatus } from '../../src/domain/enums.js';
import type { RevenuePlanV1 } from '../../src/domain/plan.js';
import { canTransition, transitionFor } from '../../src/domain/lifecycleMatrix.js';
import { PLANS_COLLECTION, ensureIndexes } from '../../src/store/indexes.js';
import type { PlanRepository, TransitionFields } from '../../src/store/PlanRepository.js';
import { PlanStore, type ProposalMeta } from '../../src/store/PlanStore.js';
import { openTestDb, type TestDb } from '../support/testDb.js';
import { draftPlan, memoryLogger, rejectionCode } from './storeFixtures.js';

// Plan documents are written the way the service writes them (PlanStore: a new DRAFT with its
// PLAN_CREATED entry, changes with their events); what is checked is the repository's part.
describe('PlanRepository', () => {
  let t: TestDb;
  let store: PlanStore;
  let repo: PlanRepository;
  const logger = memoryLogger();
  const proposal: ProposalMeta = { proposal_id: 'prop-1', source: 'RULES', dropped_steps: [] };

  beforeAll(async () => {
    t = await openTestDb('repo');
    await ensureIndexes(t.db);
    store = new PlanStore(t.db, { logger });
    repo = store.plans;
  });
  afterAll(async () => {
    await t.close();
  });

  const raw = () => t.db.collection<{ _id: string } & Record<string, unknown>>(PLANS_COLLECTION);

  /** Stores a new DRAFT plan (PlanStore.createPlan). */
  const put = (plan: RevenuePlanV1): Promise<RevenuePlanV1> =>
    store.createPlan({ plan, event: { actor: 'alice', data: {} }, proposal }).then((r) => r.plan);

  /** Changes a plan's status if it is still `from` (PlanStore.transition, with the move's ledger event). */
  const moveStatus = (tenantId: string, planId: string, from: PlanStatus, to: PlanStatus, fields: TransitionFields = {}): Promise<RevenuePlanV1> =>
    store.transition({ tenantId, planId, from, to, fields, event: { event_type: transitionFor(from, to)?.event_type ?? 'PLAN_UPDATED', actor: 'bob', data: {} } });

  /** The stored plan, or null when absent, another tenant's, or (with accountId) another account's. */
  const readPlan = (tenantId: string, planId: string, accountId?: string) => store.getPlanRepaired(tenantId, planId, accountId);

  /** Status paths from DRAFT that reach each status through allowed moves. */
  const PATH_TO: Record<PlanStatus, PlanStatus[]> = {
    DRAFT: [],
    APPROVED: ['APPROVED'],
    ACTIVE: ['APPROVED', 'ACTIVE'],
    PAUSED: ['APPROVED', 'ACTIVE', 'PAUSED'],
    COMPLETED: ['APPROVED', 'ACTIVE', 'COMPLETED'],
    ABORTED: ['APPROVED', 'ABORTED'],
    EXPIRED: ['APPROVED', 'ACTIVE', 'EXPIRED'],
  };

  /** A stored plan in `status`, on an account of its own (so activations never collide). */
  async function planIn(status: PlanStatus, overrides: Partial<RevenuePlanV1> = {}): Promise<RevenuePlanV1> {
    let plan = await put(draftPlan({ account_id: `acc-${randomUUID()}`, ...overrides }));
    for (const next of PATH_TO[status]) plan = await moveStatus(plan.tenant_id, plan.plan_id, plan.plan_status, next);
    return plan;
  }

  describe('storing a DRAFT', () => {
    it('stores a DRAFT and reads it back exactly, without store-only fields', async () => {
      const plan = draftPlan();
      expect(await put(plan)).toEqual(plan);
      const read = await readPlan('t1', plan.plan_id);
      expect(read).toEqual(plan);
      expect(Object.keys(read!)).not.toEqual(expect.arrayContaining(['_id']));
      for (const field of ['_id', 'active_slot', 'event_count', 'pending_event', 'proposal']) expect(read).not.toHaveProperty(field);
      expect(await readPlan('t1', plan.plan_id, 'acc-1')).toEqual(plan);
      expect(await readPlan('t1', plan.plan_id, 'someone-else')).toBeNull();
    });

    it('accepts only DRAFT plans', async () => {
      for (const status of PLAN_STATUSES.filter((s) => s !== 'DRAFT')) {
        const plan = draftPlan({ plan_status: status });
        expect(await rejectionCode(put(plan))).toBe('INVALID_TRANSITION');
        expect(await readPlan('t1', plan.plan_id)).toBeNull();
      }
      expect(await rejectionCode(put({ ...draftPlan(), steps: 'no' } as never))).toBe('BAD_USER_INPUT');
      expect(await rejectionCode(put(draftPlan({ constraints: { 'bad.key': 1 } })))).toBe('BAD_USER_INPUT');
    });

    it('changes a stored plan only while it is DRAFT, removing fields the new version lacks', async () => {
      const plan = await put(draftPlan());
      const { constraints: _gone, ...withoutConstraints } = plan;
      const edit = (objective: string) =>
        store.updateDraft({ tenantId: 't1', planId: plan.plan_id, changes: { objective, constraints: null }, event: { actor: 'alice', data: {} } });
      const edited = await edit('changed');
      expect(edited).toEqual({ ...withoutConstraints, objective: 'changed', updated_at: edited.updated_at });
      expect(edited.updated_at.getTime()).toBeGreaterThanOrEqual(plan.updated_at.getTime());
      expect(await readPlan('t1', plan.plan_id)).toEqual(edited);
      await moveStatus('t1', plan.plan_id, 'DRAFT', 'APPROVED');
      expect(await rejectionCode(edit('again'))).toBe('INVALID_TRANSITION');
      expect((await readPlan('t1', plan.plan_id))!.objective).toBe('changed');
    });
  });

  describe('status changes', () => {
    const allPairs = PLAN_STATUSES.flatMap((from) => PLAN_STATUSES.map((to) => [from, to] as const));

    it.each(allPairs.filter(([from, to]) => canTransition(from, to)))('allows %s -> %s', async (from, to) => {
      const plan = await planIn(from);
      const before = Date.now();
      const moved = await moveStatus('t1', plan.plan_id, from, to, to === 'COMPLETED' ? { completion_reason: 'objective_met' } : {});
      expect(moved.plan_status).toBe(to);
      expect(moved.updated_at.getTime()).toBeGreaterThanOrEqual(before);
      expect(await readPlan('t1', plan.plan_id)).toEqual(moved);
      if (to === 'APPROVED') expect(moved.approved_at).toBeInstanceOf(Date);
      if (to === 'ABORTED') expect(moved.aborted_at).toBeInstanceOf(Date);
      if (to === 'COMPLETED') expect(moved).toMatchObject({ completion_reason: 'objective_met', completed_at: expect.any(Date) });
      const slot = (await raw().findOne({ _id: plan.plan_id }))!.active_slot;
      expect(slot).toBe(to === 'ACTIVE' ? `${plan.account_id}|RENEWAL_DEFENSE` : plan.plan_id);
    });

    it.each(allPairs.filter(([from, to]) => !canTransition(from, to)))('rejects %s -> %s', async (from, to) => {
      const plan = await planIn(from);
      expect(await rejectionCode(moveStatus('t1', plan.plan_id, from, to))).toBe('INVALID_TRANSITION');
      expect(await readPlan('t1', plan.plan_id)).toEqual(plan);
    });

    it('NOT_FOUND for a missing plan, CONFLICT when the plan is no longer in `from`', async () => {
      expect(await rejectionCode(moveStatus('t1', randomUUID(), 'DRAFT', 'APPROVED'))).toBe('NOT_FOUND');
      const plan = await planIn('APPROVED');
      expect(await rejectionCode(moveStatus('t1', plan.plan_id, 'DRAFT', 'APPROVED'))).toBe('CONFLICT');
    });

    it('validates the fields it sets', async () => {
      const plan = await planIn('DRAFT');
      expect(await rejectionCode(moveStatus('t1', plan.plan_id, 'DRAFT', 'APPROVED', { objective: 'x' } as never))).toBe('BAD_USER_INPUT');
      const approved = await moveStatus('t1', plan.plan_id, 'DRAFT', 'APPROVED', { approved_by: 'bob', approved_at: new Date(1000) });
      expect(approved).toMatchObject({ approved_by: 'bob', approved_at: new Date(1000) });
    });

    it('20 parallel approvals of one plan: exactly one wins, the rest get CONFLICT', async () => {
      const plan = await planIn('DRAFT');
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => moveStatus('t1', plan.plan_id, 'DRAFT', 'APPROVED', { approved_by: `u${i}` })));
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(Array(19).fill('CONFLICT'));
      const stored = await readPlan('t1', plan.plan_id);
      expect(stored!.approved_by).toBe((won[0] as PromiseFulfilledResult<RevenuePlanV1>).value.approved_by);
    });

    it('one ACTIVE plan per account and type: two concurrent activations, one wins', async () => {
      const account = `acc-${randomUUID()}`;
      const a = await planIn('APPROVED', { account_id: account });
      const b = await planIn('APPROVED', { account_id: account });
      const results = await Promise.allSettled([a, b].map((p) => moveStatus('t1', p.plan_id, 'APPROVED', 'ACTIVE')));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(loser.reason).toMatchObject({ code: 'CONFLICT', details: expect.objectContaining({ reason: 'ACTIVE_PLAN_EXISTS' }) });
      const active = await repo.findActivePlanIds('t1', account, 'RENEWAL_DEFENSE');
      expect(active).toHaveLength(1);
      expect((await repo.findActivePlanIds('t1', account, 'RENEWAL_DEFENSE')).length > 0).toBe(true);
      const loserId = [a, b].find((p) => p.plan_id !== active[0])!.plan_id;
      expect((await readPlan('t1', loserId))!.plan_status).toBe('APPROVED');

      // Once the active one stops, the slot is free again; a PAUSED plan holds none.
      await moveStatus('t1', active[0]!, 'ACTIVE', 'PAUSED');
      expect(await repo.findActivePlanIds('t1', account, 'RENEWAL_DEFENSE')).toEqual([]);
      await moveStatus('t1', loserId, 'APPROVED', 'ACTIVE');
      expect(await rejectionCode(moveStatus('t1', active[0]!, 'PAUSED', 'ACTIVE'))).toBe('CONFLICT');
      // Other tenants and other accounts are unaffected.
      expect(await repo.findActivePlanIds('t2', account, 'RENEWAL_DEFENSE')).toEqual([]);
      await planIn('ACTIVE', { tenant_id: 't2', account_id: account });
    });
  });

  describe('listPlans', () => {
    it('walks every plan exactly once, newest first, while plans are added concurrently', async () => {
      const tenant = `list-${randomUUID()}`;
      const base = Date.now();
      const existing: string[] = [];
      for (let i = 0; i < 23; i++) {
        // Three plans share each updated_at, so the id tie-break matters.
        const p = await put(draftPlan({ tenant_id: tenant, updated_at: new Date(base - Math.floor(i / 3) * 1000) }));
        existing.push(p.plan_id);
      }
      const seen: string[] = [];
      let after: string | null = null;
      let added = 0;
      do {
        // New plans (newer than everything listed) arrive while each page is read.
        const [page]: [Awaited<ReturnType<PlanRepository['listPlans']>>, ...unknown[]] = await Promise.all([
          repo.listPlans(tenant, {}, { first: 4, after }),
          ...[0, 1].map(() => put(draftPlan({ tenant_id: tenant, updated_at: new Date(base + 1000 + added++) }))),
        ]);
        seen.push(...page.items.map((p) => p.plan_id));
        const times = page.items.map((p) => p.updated_at.getTime());
        expect([...times].sort((x, y) => y - x)).toEqual(times);
        after = page.hasNextPage ? page.endCursor : null;
      } while (after);
      expect(new Set(seen).size).toBe(seen.length);
      // Every plan that existed when the walk began, exactly once; some of the new ones may show
      // on the first page, none twice.
      const newcomers = seen.filter((id) => !existing.includes(id));
      expect(seen.filter((id) => existing.includes(id)).sort()).toEqual([...existing].sort());
      expect(newcomers.length).toBeLessThanOrEqual(2);
    });

    it('filters by account, statuses and type, clamps page size and refuses bad cursors', async () => {
      const tenant = `filter-${randomUUID()}`;
      const d = await planIn('DRAFT', { tenant_id: tenant, account_id: 'x' });
      const a = await planIn('APPROVED', { tenant_id: tenant, account_id: 'x' });
      await planIn('ABORTED', { tenant_id: tenant, account_id: 'y' });
      expect((await repo.listPlans(tenant, { accountId: 'x' })).items.map((p) => p.plan_id).sort()).toEqual([d.plan_id, a.plan_id].sort());
      expect((await repo.listPlans(tenant, { statuses: ['APPROVED', 'ABORTED'] })).items).toHaveLength(2);
      expect((await repo.listPlans(tenant, { statuses: ['APPROVED'], accountId: 'x', planType: 'RENEWAL_DEFENSE' })).items.map((p) => p.plan_id)).toEqual([a.plan_id]);
      expect((await repo.listPlans(tenant, {}, { first: 0 })).items).toHaveLength(1);
      expect((await repo.listPlans(tenant, {}, { first: 10_000 })).items).toHaveLength(3);
      expect(await rejectionCode(repo.listPlans(tenant, {}, { after: 'eyJrIjoicGxhbnMifQ' }))).toBe('BAD_USER_INPUT');
    });
  });

  describe('tenant isolation', () => {
    it('no read or write reaches another tenant\'s plan', async () => {
      const plan = await planIn('APPROVED', { tenant_id: 't1' });
      const snapshot = await raw().findOne({ _id: plan.plan_id });
      expect(await readPlan('t2', plan.plan_id)).toBeNull();
      expect(await repo.getPlans('t2', [plan.plan_id])).toEqual([null]);
      expect((await repo.listPlans('t2', { accountId: plan.account_id })).items).toEqual([]);
      expect(await repo.findActivePlanIds('t2', plan.account_id, 'RENEWAL_DEFENSE')).toEqual([]);
      expect(await rejectionCode(moveStatus('t2', plan.plan_id, 'APPROVED', 'ACTIVE'))).toBe('NOT_FOUND');
      expect(await rejectionCode(put({ ...plan, tenant_id: 't2', plan_status: 'DRAFT' }))).toBe('CONFLICT');
      expect(await raw().findOne({ _id: plan.plan_id })).toEqual(snapshot);
    });

    it('getPlans batches and keeps the caller\'s order', async () => {
      const a = await planIn('DRAFT');
      const b = await planIn('DRAFT');
      expect(await repo.getPlans('t1', [b.plan_id, 'missing', a.plan_id, b.plan_id])).toEqual([b, null, a, b]);
      expect(await repo.getPlans('t1', [])).toEqual([]);
    });
  });

  describe('corrupted documents', () => {
    it('give a clear INTERNAL_SERVER_ERROR with the cause logged, never a crash', async () => {
      const plan = await planIn('DRAFT', { tenant_id: `corrupt-${randomUUID()}` });
      await raw().updateOne({ _id: plan.plan_id }, { $set: { plan_status: 'BOGUS', 'steps.0.sequence': 'one' } });
      const before = logger.lines.length;
      await expect(readPlan(plan.tenant_id, plan.plan_id)).rejects.toMatchObject({
        code: 'INTERNAL_SERVER_ERROR',
        message: `stored plan ${plan.plan_id} is invalid`,
      });
      const logged = logger.lines.slice(before).find((l) => l.level === 'error');
      expect(logged).toBeDefined();
      expect(JSON.stringify(logged!.obj)).toMatch(/plan_status/);
      await expect(repo.listPlans(plan.tenant_id)).rejects.toMatchObject({ code: 'INTERNAL_SERVER_ERROR' });
      await raw().updateOne({ _id: plan.plan_id }, { $set: { plan_status: 'DRAFT', 'steps.0.sequence': 1, event_count: 'x' } });
      await expect(readPlan(plan.tenant_id, plan.plan_id)).rejects.toMatchObject({ code: 'INTERNAL_SERVER_ERROR' });
    });
  });
});
