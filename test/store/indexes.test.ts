import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { MongoClient, type CommandStartedEvent, type Db, type Document } from 'mongodb';
import { LEDGER_INDEXES, PLAN_INDEXES, PLANS_COLLECTION, PLAN_LEDGER_COLLECTION, ensureIndexes } from '../../src/store/indexes.js';
import { PlanStore } from '../../src/store/PlanStore.js';
import { openTestDb, testStoreUri, type TestDb } from '../support/testDb.js';
import { draftPlan, memoryLogger } from './storeFixtures.js';

let t: TestDb;
beforeAll(async () => {
  t = await openTestDb('idx');
});
afterAll(async () => {
  await t.close();
});

describe('ensureIndexes', () => {
  it('creates every index by its fixed name, and running it again changes nothing', async () => {
    await ensureIndexes(t.db);
    await ensureIndexes(t.db);
    for (const [collection, expected] of [
      [PLANS_COLLECTION, PLAN_INDEXES],
      [PLAN_LEDGER_COLLECTION, LEDGER_INDEXES],
    ] as const) {
      const actual = await t.db.collection(collection).indexes();
      expect(actual.map((i) => i.name).sort()).toEqual(['_id_', ...expected.map((i) => i.name)].sort());
      for (const def of expected) {
        const found = actual.find((i) => i.name === def.name)!;
        expect(found.key).toEqual(def.key);
        expect(Boolean(found.unique)).toBe(Boolean(def.unique));
      }
    }
  });
});

/**
 * Runs the store's main reads with command monitoring on, then asks the server to explain each
 * command exactly as the store sent it.
 */
describe('the main queries and the indexes', () => {
  let client: MongoClient;
  let db: Db;
  const sent: CommandStartedEvent[] = [];

  beforeAll(async () => {
    client = new MongoClient(testStoreUri(), { monitorCommands: true });
    await client.connect();
    db = client.db(t.dbName);
    await ensureIndexes(db);
    const store = new PlanStore(db, { logger: memoryLogger() });
    const plan = draftPlan({ tenant_id: 'tx' });
    await store.createPlan({ plan, event: { actor: null, data: {} }, proposal: { proposal_id: 'p', source: 'RULES', dropped_steps: [] } });
    client.on('commandStarted', (e) => sent.push(e));
    const page = await store.plans.listPlans('tx', {}, { first: 1 });
    await store.plans.listPlans('tx', { statuses: ['DRAFT'] }, { first: 1, after: page.endCursor });
    await store.plans.listPlans('tx', { accountId: plan.account_id });
    await store.plans.getPlan('tx', plan.plan_id);
    await store.plans.getPlans('tx', [plan.plan_id, randomUUID()]);
    await store.plans.findActivePlanIds('tx', plan.account_id, 'RENEWAL_DEFENSE');
    await store.ledger.listByPlan('tx', plan.plan_id);
    await store.ledger.listByPlans('tx', [plan.plan_id], 10);
    const feed = await store.ledger.listForTenant('tx', {}, { first: 1 });
    await store.ledger.listForTenant('tx', {}, { first: 1, after: feed.endCursor });
    await store.ledger.listForTenant('tx', { accountId: plan.account_id });
    await store.ledger.stats('tx', { eventTypes: ['PLAN_CREATED'] });
    await store.ledger.append({ plan_id: plan.plan_id, tenant_id: 'tx', account_id: plan.account_id, event_type: 'PLAN_UPDATED', actor: null, data: {} });
    await store.transition({ tenantId: 'tx', planId: plan.plan_id, from: 'DRAFT', to: 'APPROVED', event: { event_type: 'PLAN_APPROVED', actor: null, data: {} } });
    client.removeAllListeners('commandStarted');
  });
  afterAll(async () => {
    await client.close();
  });

  const reads = () =>
    sent
      .filter((e) => e.commandName === 'find' || e.commandName === 'aggregate')
      .map((e) => {
        const { lsid: _l, $db: _d, $clusterTime: _c, $readPreference: _r, ...command } = e.command as Document;
        return command;
      });

  const stagesOf = (plan: unknown): string[] => {
    if (!plan || typeof plan !== 'object') return [];
    const node = plan as Document;
    const own = typeof node.stage === 'string' ? [node.stage as string] : [];
    const children = [node.inputStage, ...(Array.isArray(node.inputStages) ? node.inputStages : [])];
    return [...own, ...children.flatMap(stagesOf)];
  };

  it('every query the store sends, reads and conditional writes, filters by tenant_id first', () => {
    const filters = sent.flatMap((e): Document[] => {
      const c = e.command as Document;
      switch (e.commandName) {
        case 'find':
          return [c.filter as Document];
        case 'aggregate':
          return [(c.pipeline as Document[])[0]!.$match as Document];
        case 'findAndModify':
          return [c.query as Document];
        case 'update':
        case 'delete':
          return (c.updates ?? c.deletes as Document[]).map((u: Document) => u.q as Document);
        case 'count':
          return [c.query as Document];
        default:
          return [];
      }
    });
    expect(filters.length).toBeGreaterThanOrEqual(17);
    expect(sent.some((e) => e.commandName === 'delete')).toBe(false);
    for (const filter of filters) {
      const first = '$and' in filter ? (filter.$and as Document[])[0]! : filter;
      expect(Object.keys(first)[0]).toBe('tenant_id');
    }
  });

  it('the server plans each of them with an index where it reports one', async () => {
    const build = (await db.admin().command({ buildInfo: 1 })) as Document;
    const ferret = typeof build.ferretdbVersion === 'string';
    for (const command of reads()) {
      const explained = (await db.command({ explain: command, verbosity: 'queryPlanner' })) as Document;
      if (ferret) {
        // FerretDB v1 (SQLite) answers with SQLite's EXPLAIN QUERY PLAN and pushdown flags. It
        // pushes down only a filter that is exactly {_id: <string>}: tenant-scoped filters are
        // table scans there, filtered in FerretDB; its indexes serve uniqueness only.
        expect(Array.isArray((explained.queryPlanner as Document).Plan)).toBe(true);
        expect(((explained.queryPlanner as Document).Plan as string[]).every((line) => /SCAN|SEARCH/.test(line))).toBe(true);
        expect(typeof explained.filterPushdown).toBe('boolean');
        expect(explained.filterPushdown).toBe(false);
      } else {
        // MongoDB: the winning plan reads an index, never the whole collection.
        const planner = (explained.queryPlanner ?? (explained.stages as Document[] | undefined)?.[0]?.$cursor?.queryPlanner) as Document;
        const stages = stagesOf(planner.winningPlan?.queryPlan ?? planner.winningPlan);
        expect(stages).not.toContain('COLLSCAN');
        expect(stages.some((s) => /IXSCAN|IDHACK|EXPRESS/.test(s))).toBe(true);
      }
    }
  });
});
