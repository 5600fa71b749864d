// A DRAFT's chain has a bound (MAX_DRAFT_EVENTS): past it updateDraft is a CONFLICT and writes
// nothing, so verifyPlanLedger and a plan's story stay bounded reads.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { MAX_DRAFT_EVENTS } from '../../src/domain/plan.js';
import { ensureIndexes } from '../../src/store/indexes.js';
import { PlanStore } from '../../src/store/PlanStore.js';
import { openTestDb, type TestDb } from '../support/testDb.js';
import { draftPlan, memoryLogger, rejectionCode } from './storeFixtures.js';

describe('the bound of a DRAFT chain (real store)', () => {
  let t: TestDb;
  let store: PlanStore;
  beforeAll(async () => {
    t = await openTestDb('draftbound');
    await ensureIndexes(t.db);
    store = new PlanStore(t.db, { logger: memoryLogger() });
  });
  afterAll(async () => {
    await t.close();
  });

  it(`accepts updates up to ${MAX_DRAFT_EVENTS} events, then answers CONFLICT and writes nothing`, async () => {
    const plan = draftPlan({ tenant_id: 't1', account_id: `acc-${randomUUID()}` });
    await store.createPlan({ plan, event: { actor: 'alice', data: { trigger: 'proposal_generated' } }, proposal: { proposal_id: 'prop-bound', source: 'RULES', dropped_steps: [] } });
    const update = (i: number) => store.updateDraft({ tenantId: 't1', planId: plan.plan_id, changes: { objective: `objective ${i}` }, event: { actor: 'carol', data: { i } } });
    for (let i = 2; i <= MAX_DRAFT_EVENTS; i++) await update(i);
    expect(await rejectionCode(update(MAX_DRAFT_EVENTS + 1))).toBe('CONFLICT');
    const verification = await store.verifyPlanLedger('t1', plan.plan_id);
    expect(verification).toMatchObject({ valid: true, entries: MAX_DRAFT_EVENTS });
    expect((await store.getPlanRepaired('t1', plan.plan_id))?.objective).toBe(`objective ${MAX_DRAFT_EVENTS}`);
  }, 120_000);
});
