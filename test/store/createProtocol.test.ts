import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient, type CommandStartedEvent, type Db, type Document } from 'mongodb';
import { PLANS_COLLECTION, PLAN_LEDGER_COLLECTION, ensureIndexes } from '../../src/store/indexes.js';
import { PlanStore, planEventId } from '../../src/store/PlanStore.js';
import { readCreatedPlan } from '../../src/store/createdPlanCopy.js';
import { openTestDb, testStoreUri, type TestDb } from '../support/testDb.js';
import { draftPlan, memoryLogger } from './storeFixtures.js';

// What a create costs the store: the hot path of proposePlan. It must stay two inserts, the
// ledger entry first (the commit point: see PlanStore), with no read and no update. The commands are recorded as the driver sends them to the real store.

describe('createPlan', () => {
  let t: TestDb;
  let client: MongoClient;
  let db: Db;
  let store: PlanStore;
  const sent: CommandStartedEvent[] = [];

  beforeAll(async () => {
    t = await openTestDb('create');
    client = new MongoClient(testStoreUri(), { monitorCommands: true });
    await client.connect();
    db = client.db(t.dbName);
    await ensureIndexes(db);
    store = new PlanStore(db, { logger: memoryLogger() });
    await store.createPlan({ plan: draftPlan(), event: { actor: null, data: {} }, proposal: { proposal_id: 'warm', source: 'RULES', dropped_steps: [] } });
    client.on('commandStarted', (e) => sent.push(e));
  });
  afterAll(async () => {
    client.removeAllListeners('commandStarted');
    await client.close();
    await t.close();
  });

  const storeCommands = () =>
    sent
      .filter((e) => !['hello', 'isMaster', 'ping', 'endSessions'].includes(e.commandName))
      .map((e) => ({ name: e.commandName, collection: (e.command as Document)[e.commandName] as string, docs: (e.command as Document).documents as Document[] | undefined }));

  it('is two inserts, the PLAN_CREATED entry (with the copy of the plan) before the plan', async () => {
    sent.length = 0;
    const plan = draftPlan({ tenant_id: 't-create' });
    const proposal = { proposal_id: 'p1', source: 'RULES' as const, dropped_steps: [] };
    const result = await store.createPlan({ plan, event: { actor: 'alice', data: { trigger: 'proposal_generated' } }, proposal });
    expect(result.created).toBe(true);
    const commands = storeCommands();
    expect(commands.map((c) => `${c.name} ${c.collection}`)).toEqual([`insert ${PLAN_LEDGER_COLLECTION}`, `insert ${PLANS_COLLECTION}`]);
    const [entry] = commands[0]!.docs!;
    expect(entry).toMatchObject({ _id: planEventId('t-create', plan.plan_id, 1), seq: 1, prev_hash: null, event_type: 'PLAN_CREATED' });
    // The copy is stored as one EJSON text (src/store/createdPlanCopy.ts).
    expect(readCreatedPlan(entry!.created_plan)).toMatchObject({ plan: { plan_id: plan.plan_id, objective: plan.objective }, proposal });
    const [doc] = commands[1]!.docs!;
    expect(doc).toMatchObject({ _id: plan.plan_id, event_count: 1 });
    expect(doc).not.toHaveProperty('pending_event');
  });

  it('never shows the copy: the entry read back is the hashed fields only', async () => {
    const plan = draftPlan({ tenant_id: 't-create' });
    await store.createPlan({ plan, event: { actor: null, data: {} }, proposal: { proposal_id: 'p2', source: 'RULES', dropped_steps: [] } });
    const [entry] = (await store.ledger.listByPlan('t-create', plan.plan_id)).items;
    expect(entry).toBeDefined();
    expect(entry).not.toHaveProperty('created_plan');
    expect(await store.verifyPlanLedger('t-create', plan.plan_id)).toMatchObject({ valid: true, entries: 1 });
  });
});
