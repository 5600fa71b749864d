import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { LedgerEntryRecord } from '../../src/domain/ledger.js';
import type { RevenuePlanV1 } from '../../src/domain/plan.js';
import { PLANS_COLLECTION, PLAN_LEDGER_COLLECTION, ensureIndexes } from '../../src/store/indexes.js';
import { PlanLedger } from '../../src/store/PlanLedger.js';
import { PlanStore, type CreatePlanInput, type ProposalMeta } from '../../src/store/PlanStore.js';
import type { Outcome } from '../../src/store/outcome.js';
import type { CreatePlanResult } from '../../src/store/PlanStore.js';
import { CrashingPlanStore } from '../support/crashingPlanStore.js';
import { openTestDb, type TestDb } from '../support/testDb.js';
import { isAppError } from '../../src/domain/errors.js';
import { draftPlan, memoryLogger } from './storeFixtures.js';

// PlanStore.createPlans, the batched create (docs/store.md, "Creating many plans at once"):
// per plan the same outcome and guarantees as createPlan, against the real embedded store.

describe('PlanStore.createPlans', () => {
  let t: TestDb;
  let store: PlanStore;
  const logger = memoryLogger();
  /** Every entry the ledger reported to the verifiable log (as the sealer learns of them). */
  const reported: LedgerEntryRecord[] = [];
  const ledgerOf = () => new PlanLedger(t.db, { logger, onAppended: (e) => void reported.push(e) });

  beforeAll(async () => {
    t = await openTestDb('pstore_many');
    await ensureIndexes(t.db);
    store = new PlanStore(t.db, { logger, ledger: ledgerOf() });
  });
  afterAll(async () => {
    await t.close();
  });

  const proposal: ProposalMeta = { proposal_id: 'prop-many', source: 'RULES', dropped_steps: [] };
  const rawPlans = () => t.db.collection<{ _id: string } & Record<string, unknown>>(PLANS_COLLECTION);
  const rawLedger = () => t.db.collection<{ _id: string } & Record<string, unknown>>(PLAN_LEDGER_COLLECTION);
  const inputFor = (plan: RevenuePlanV1, data: Record<string, unknown> = { run_id: 'r1' }): CreatePlanInput => ({ plan, event: { actor: 'paula', data }, proposal });
  const plansFor = (n: number, tenant = 't1') => Array.from({ length: n }, () => draftPlan({ tenant_id: tenant, account_id: `acc-${randomUUID()}` }));
  const values = (outcomes: Outcome<CreatePlanResult>[]) =>
    outcomes.map((o) => {
      if (!o.ok) throw o.error;
      return o.value;
    });

  class Crash extends Error {}
  const codeOf = (e: unknown) => (isAppError(e) ? e.code : `not an AppError: ${String(e)}`);

  /** One PLAN_CREATED per plan, a document with nothing pending, a valid chain. */
  async function expectWhole(plans: readonly RevenuePlanV1[]): Promise<void> {
    const ids = plans.map((p) => p.plan_id);
    expect(await rawLedger().countDocuments({ plan_id: { $in: ids } })).toBe(plans.length);
    const docs = await rawPlans().find({ _id: { $in: ids } }).toArray();
    expect(docs).toHaveLength(plans.length);
    for (const doc of docs) expect(doc).toMatchObject({ event_count: 1, plan_status: 'DRAFT' });
    for (const doc of docs) expect(doc.pending_event).toBeUndefined();
    for (const plan of plans) expect(await store.verifyPlanLedger(plan.tenant_id, plan.plan_id)).toMatchObject({ valid: true, entries: 1 });
  }

  it('stores each plan with its PLAN_CREATED entry, tells the verifiable log of each, and a repeat creates nothing', async () => {
    const plans = plansFor(40);
    reported.length = 0;
    const first = values(await store.createPlans(plans.map((p) => inputFor(p))));
    expect(first.map((r) => r.created)).toEqual(plans.map(() => true));
    expect(first.map((r) => r.plan.plan_id)).toEqual(plans.map((p) => p.plan_id));
    await expectWhole(plans);
    expect(reported.filter((e) => e.seq === 1).map((e) => e.plan_id).sort()).toEqual(plans.map((p) => p.plan_id).sort());
    const entry = await rawLedger().findOne({ plan_id: plans[0]!.plan_id });
    expect(entry).toMatchObject({ event_type: 'PLAN_CREATED', seq: 1, actor: 'paula', data: expect.objectContaining({ run_id: 'r1' }) });

    // A retry (another draft generated for the same ids) gets the stored plans: created false, nothing new.
    const again = values(await store.createPlans(plans.map((p) => inputFor({ ...p, objective: 'a second draft' }))));
    expect(again.map((r) => r.created)).toEqual(plans.map(() => false));
    expect(again.map((r) => r.plan.objective)).toEqual(plans.map((p) => p.objective));
    await expectWhole(plans);
  });

  it('an invalid input or a taken id is that input\'s error; the others are stored', async () => {
    const [a, b, c] = plansFor(3);
    const foreign = plansFor(1, 't2')[0]!;
    await store.createPlan(inputFor(foreign));
    const outcomes = await store.createPlans([
      inputFor(a!),
      inputFor({ ...b!, plan_status: 'APPROVED' }),
      inputFor({ ...c!, tenant_id: 't1', plan_id: foreign.plan_id }),
      inputFor({ ...c!, plan_id: '' }),
      inputFor(c!),
    ]);
    expect(outcomes.map((o) => (o.ok ? 'ok' : codeOf(o.error)))).toEqual(['ok', 'INVALID_TRANSITION', 'CONFLICT', 'BAD_USER_INPUT', 'ok']);
    await expectWhole([a!, c!]);
    expect(await rawPlans().countDocuments({ _id: b!.plan_id })).toBe(0);
    expect(await rawLedger().countDocuments({ plan_id: b!.plan_id })).toBe(0);
    // The other tenant's plan is untouched, and t1 never gets it (as with createPlan, the forced
    // clash leaves t1 a PLAN_CREATED entry but no plan).
    expect(await rawPlans().findOne({ _id: foreign.plan_id })).toMatchObject({ tenant_id: 't2', objective: foreign.objective });
    expect(await rawLedger().countDocuments({ tenant_id: 't2', plan_id: foreign.plan_id })).toBe(1);
    expect(await store.getPlanRepaired('t1', foreign.plan_id)).toBeNull();
  });

  it('a crash after the entries, before the documents: the retry restores every plan from its entry, once', async () => {
    const plans = plansFor(30);
    const crashing = new CrashingPlanStore(t.db, { logger }, { afterLedgerAppend: () => { throw new Crash('simulated crash'); } });
    await expect(crashing.createPlans(plans.map((p) => inputFor(p)))).rejects.toBeInstanceOf(Crash);
    expect(await rawLedger().countDocuments({ plan_id: { $in: plans.map((p) => p.plan_id) } })).toBe(30);
    expect(await rawPlans().countDocuments({ _id: { $in: plans.map((p) => p.plan_id) } })).toBe(0);
    // The retry (with half of the plans new to it as well) finds the first half's entries.
    const fresh = plansFor(10);
    const retry = values(await store.createPlans([...plans, ...fresh].map((p) => inputFor({ ...p, objective: 'regenerated' }))));
    expect(retry.map((r) => r.created)).toEqual([...plans.map(() => false), ...fresh.map(() => true)]);
    expect(retry.slice(0, 30).map((r) => r.plan.objective)).toEqual(plans.map((p) => p.objective));
    await expectWhole([...plans, ...fresh]);
  });

  it('a crash after the entries: the instance\'s repair list, or the start-up sweep, restores the plans without a retry', async () => {
    const listed = plansFor(12);
    const crashing = new CrashingPlanStore(t.db, { logger }, { afterLedgerAppend: () => { throw new Crash('simulated crash'); } });
    await expect(crashing.createPlans(listed.map((p) => inputFor(p)))).rejects.toBeInstanceOf(Crash);
    expect(await crashing.outbox.repairOlderThan(0, 500, { scan: false })).toBe(12);
    await expectWhole(listed);

    // A process that died has no list: the start-up sweep finds the entries without documents.
    const lost = plansFor(8);
    await expect(new CrashingPlanStore(t.db, { logger }, { afterLedgerAppend: () => { throw new Crash('simulated crash'); } }).createPlans(lost.map((p) => inputFor(p)))).rejects.toBeInstanceOf(Crash);
    expect(await new PlanStore(t.db, { logger }).outbox.restoreSince(new Date(Date.now() - 60_000))).toBe(8);
    await expectWhole(lost);
  });

  it('racing creates of the same plans (batched and one by one) give one plan and one PLAN_CREATED each', async () => {
    const plans = plansFor(20);
    const other = new PlanStore(t.db, { logger });
    const results = await Promise.all([
      store.createPlans(plans.map((p) => inputFor(p))),
      other.createPlans([...plans].reverse().map((p) => inputFor(p))),
      ...plans.slice(0, 5).map((p) => other.createPlan(inputFor(p)).then((r) => [{ ok: true as const, value: r }])),
    ]);
    for (const outcomes of results) for (const r of values(outcomes)) expect(plans.map((p) => p.plan_id)).toContain(r.plan.plan_id);
    await expectWhole(plans);
  });

  it('an empty batch is no command', async () => {
    expect(await store.createPlans([])).toEqual([]);
  });
});
