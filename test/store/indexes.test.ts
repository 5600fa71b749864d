import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { MongoClient, type CommandStartedEvent, type Db, type Document } from 'mongodb';
import { LEDGER_INDEXES, PLAN_INDEXES, PLANS_COLLECTION, PLAN_LEDGER_COLLECTION, ensureIndexes } from '../../src/store/indexes.js';
import { PlanStore, planEventId } from '../../src/store/PlanStore.js';
import { chainAppender } from '../support/ledgerAppends.js';
import { openTestDb, testStoreProfile, testStoreUri, type TestDb } from '../support/testDb.js';
import { draftPlan, memoryLogger } from './storeFixtures.js';
import { itIf } from '../support/skip.js';

const profile = await testStoreProfile();
const onFerretDb = itIf(profile.ferretdb, 'indexes: the FerretDB-only checks (the store is MongoDB)');
const onMongoDb = itIf(!profile.ferretdb, 'indexes: the MongoDB-only checks (the store is FerretDB)');

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
    await store.getPlanRepaired('tx', plan.plan_id);
    await store.getPlanWithProposal('tx', plan.plan_id);
    await store.plans.getPlans('tx', [plan.plan_id, randomUUID()]);
    await store.plans.findActivePlanIds('tx', plan.account_id, 'RENEWAL_DEFENSE');
    await store.ledger.listByPlan('tx', plan.plan_id);
    await store.ledger.listByPlans('tx', [plan.plan_id], 10);
    const feed = await store.ledger.listForTenant('tx', {}, { first: 1 });
    await store.ledger.listForTenant('tx', {}, { first: 1, after: feed.endCursor });
    await store.ledger.listForTenant('tx', { accountId: plan.account_id });
    await store.ledger.stats('tx', { eventTypes: ['PLAN_CREATED'] });
    await store.transition({ tenantId: 'tx', planId: plan.plan_id, from: 'DRAFT', to: 'APPROVED', event: { event_type: 'PLAN_APPROVED', actor: null, data: {} } });
    // An append without the previous hash (after the plan's two events) reads the entry before it.
    await store.ledger.append({ entry_id: planEventId('tx', plan.plan_id, 3), plan_id: plan.plan_id, tenant_id: 'tx', account_id: plan.account_id, event_type: 'PLAN_UPDATED', actor: null, data: {} }, { expectedSeq: 3 });
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

  const explainEach = async (check: (explained: Document) => void) => {
    for (const command of reads()) check((await db.command({ explain: command, verbosity: 'queryPlanner' })) as Document);
  };

  onFerretDb(`the server plans each of them with an index: our FerretDB build pushes them down to SQLite ${profile.ferretdb ? '' : profile.needs('FerretDB')}`.trim(), async () => {
    // FerretDB v1 (SQLite) answers with SQLite's EXPLAIN QUERY PLAN and pushdown flags. Our
    // build pushes the tenant-scoped filters down to SQLite, which serves them from the
    // service's indexes (tools/ferretdb/patches; every query: indexedQueries.test.ts).
    for (const command of reads()) {
      const explained = (await db.command({ explain: command, verbosity: 'queryPlanner' })) as Document;
      const plan = (explained.queryPlanner as Document).Plan as string[];
      expect(Array.isArray(plan)).toBe(true);
      expect({ command, plan }).toEqual({ command, plan: expect.arrayContaining([expect.stringMatching(/SEARCH \S+ USING (COVERING )?INDEX/)]) });
      // a count reads its rows in a subquery (SCAN (subquery-1)); no table is scanned
      expect(plan.some((line) => /detail=SCAN (?!\(subquery)/.test(line))).toBe(false);
      expect(explained.filterPushdown).toBe(true);
    }
  });

  onMongoDb(`the server plans each of them with an index, never the whole collection ${profile.ferretdb ? profile.needs('MongoDB') : ''}`.trim(), async () => {
    await explainEach((explained) => {
      const planner = (explained.queryPlanner ?? (explained.stages as Document[] | undefined)?.[0]?.$cursor?.queryPlanner) as Document;
      const stages = stagesOf(planner.winningPlan?.queryPlan ?? planner.winningPlan);
      expect(stages).not.toContain('COLLSCAN');
      expect(stages.some((s) => /IXSCAN|IDHACK|EXPRESS/.test(s))).toBe(true);
    });
  });
});

/** The filter of every command that selects documents, with its command name. */
function filtersOf(events: readonly CommandStartedEvent[]): { command: string; filter: Document }[] {
  return events.flatMap((e) => {
    const c = e.command as Document;
    switch (e.commandName) {
      case 'find':
        return [{ command: 'find', filter: c.filter as Document }];
      case 'findAndModify':
        return [{ command: 'findAndModify', filter: c.query as Document }];
      case 'update':
        return (c.updates as Document[]).map((u) => ({ command: 'update', filter: u.q as Document }));
      case 'delete':
        return (c.deletes as Document[]).map((d) => ({ command: 'delete', filter: d.q as Document }));
      case 'count':
        return [{ command: 'count', filter: c.query as Document }];
      case 'aggregate':
        return [{ command: 'aggregate', filter: (c.pipeline as Document[])[0]?.$match as Document }];
      default:
        return [];
    }
  });
}

/** A filter within one tenant: tenant_id first. */
const isTenantScoped = (filter: Document): boolean => Object.keys(filter)[0] === 'tenant_id' && typeof filter.tenant_id === 'string';

/**
 * The hot paths read and write a plan and its chain within one tenant (by {tenant_id, _id}, or
 * one query on a tenant-first index), and their number does not grow with the data. Asserted
 * on the commands they send, not on timings.
 */
describe('the hot paths send tenant-scoped commands, as many whatever the data', () => {
  let client: MongoClient;
  let db: Db;
  let store: PlanStore;
  const sent: CommandStartedEvent[] = [];
  const onCommand = (e: CommandStartedEvent) => {
    const target = (e.command as Document)[e.commandName];
    if (target === PLANS_COLLECTION || target === PLAN_LEDGER_COLLECTION) sent.push(e);
  };
  const proposal = { proposal_id: 'p', source: 'RULES' as const, dropped_steps: [] };

  /** The commands `fn` sends to the two collections. */
  async function record(fn: () => Promise<unknown>): Promise<CommandStartedEvent[]> {
    sent.length = 0;
    client.on('commandStarted', onCommand);
    try {
      await fn();
    } finally {
      client.off('commandStarted', onCommand);
    }
    return [...sent];
  }

  /** A plan through its whole protocol: create, three transitions, a draft edit. */
  async function lifecycle(tenant: string) {
    const plan = draftPlan({ tenant_id: tenant, account_id: `acc-${randomUUID()}` });
    const move = (from: 'DRAFT' | 'APPROVED' | 'ACTIVE', to: 'APPROVED' | 'ACTIVE' | 'PAUSED', event_type: 'PLAN_APPROVED' | 'PLAN_ACTIVATED' | 'PLAN_PAUSED') =>
      store.transition({ tenantId: tenant, planId: plan.plan_id, from, to, event: { event_type, actor: 'x', data: {} } });
    await store.createPlan({ plan, event: { actor: null, data: {} }, proposal });
    await store.updateDraft({ tenantId: tenant, planId: plan.plan_id, changes: { objective: 'edited' }, event: { actor: 'x', data: {} } });
    await move('DRAFT', 'APPROVED', 'PLAN_APPROVED');
    await move('APPROVED', 'ACTIVE', 'PLAN_ACTIVATED');
    await move('ACTIVE', 'PAUSED', 'PLAN_PAUSED');
    return plan;
  }

  beforeAll(async () => {
    client = new MongoClient(testStoreUri(), { monitorCommands: true });
    await client.connect();
    db = client.db(`${t.dbName}_ids`);
    await ensureIndexes(db);
    store = new PlanStore(db, { logger: memoryLogger() });
  });
  afterAll(async () => {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  });

  it('createPlan, transitions, draft edits, plan reads, ledger reads and verify: every filter is tenant-scoped', async () => {
    let plan: ReturnType<typeof draftPlan> | undefined;
    const events = await record(async () => {
      plan = await lifecycle('tp');
      await store.getPlanRepaired('tp', plan.plan_id);
      await store.getPlanWithProposal('tp', plan.plan_id);
      await store.plans.getPlans('tp', [plan.plan_id, randomUUID()]);
      const page = await store.ledger.listByPlan('tp', plan.plan_id, { first: 2 });
      await store.ledger.listByPlan('tp', plan.plan_id, { first: 2, after: page.endCursor });
      await store.ledger.listForTenant('tp', { planId: plan.plan_id, eventTypes: ['PLAN_APPROVED'] });
      await store.ledger.listByPlans('tp', [plan.plan_id, randomUUID()], 10);
      await store.ledger.append({ entry_id: planEventId('tp', plan.plan_id, 6), plan_id: plan.plan_id, tenant_id: 'tp', account_id: plan.account_id, event_type: 'PLAN_UPDATED', actor: null, data: {} }, { expectedSeq: 6 });
      // Another tenant asking for this plan is refused by the same reads.
      expect(await store.getPlanRepaired('other', plan.plan_id)).toBeNull();
      expect((await store.ledger.listByPlan('other', plan.plan_id)).items).toEqual([]);
    });
    // Verification reads the chain in one query.
    const verifying = await record(async () => {
      // The extra entry above was appended outside the plan's own protocol: the plan issued 5.
      expect(await store.verifyPlanLedger('tp', plan!.plan_id)).toMatchObject({ valid: false, entries: 6, broken_at_seq: 6 });
      expect(await store.ledger.verify('tp', plan!.plan_id)).toMatchObject({ valid: true, entries: 6 });
    });
    const chainReads = verifying.filter((e) => e.commandName === 'find' && (e.command as Document).find === PLAN_LEDGER_COLLECTION);
    expect(chainReads.length).toBe(2);
    for (const { filter } of filtersOf(verifying)) expect(isTenantScoped(filter)).toBe(true);
    const filters = filtersOf(events);
    expect(filters.length).toBeGreaterThan(20);
    expect(new Set(filters.map((f) => f.command))).toEqual(new Set(['find', 'findAndModify', 'update']));
    for (const { command, filter } of filters) expect({ command, filter, scoped: isTenantScoped(filter) }).toEqual({ command, filter, scoped: true });
    // Everything else it sent is inserts.
    expect(events.filter((e) => !['find', 'findAndModify', 'update'].includes(e.commandName)).map((e) => e.commandName)).toEqual(
      expect.arrayContaining(['insert']),
    );
    expect(events.every((e) => ['find', 'findAndModify', 'update', 'insert'].includes(e.commandName))).toBe(true);
  });

  const explainPointReads = async (check: (explained: Document) => void) => {
    const plan = draftPlan({ tenant_id: 'tq' });
    const events = await record(async () => {
      await store.createPlan({ plan, event: { actor: null, data: {} }, proposal });
      await store.ledger.listByPlan('tq', plan.plan_id);
    });
    const finds = events.filter((e) => e.commandName === 'find');
    expect(finds.length).toBeGreaterThan(0);
    for (const e of finds) {
      const { lsid: _l, $db: _d, $clusterTime: _c, $readPreference: _r, ...command } = e.command as Document;
      check((await db.command({ explain: command, verbosity: 'queryPlanner' })) as Document);
    }
  };

  onFerretDb(`those filters are pushed down (FerretDB) ${profile.ferretdb ? '' : profile.needs('FerretDB')}`.trim(), async () => {
    await explainPointReads((explained) => expect(explained.filterPushdown).toBe(true));
  });

  onMongoDb(`those filters are served by the _id index (MongoDB) ${profile.ferretdb ? profile.needs('MongoDB') : ''}`.trim(), async () => {
    await explainPointReads((explained) => expect(JSON.stringify(explained.queryPlanner)).not.toContain('COLLSCAN'));
  });

  it('their number does not grow with the data: the same commands with 2,000 other entries and plans stored', async () => {
    const shape = (events: CommandStartedEvent[]) => events.map((e) => e.commandName).join(',');
    const before = await record(() => lifecycle('ts'));
    const others = Array.from({ length: 2000 }, (_, i) => {
      const planId = `other-${Math.floor(i / 20)}`;
      const seq = (i % 20) + 1;
      return { _id: planEventId('ts', planId, seq), entry_id: planEventId('ts', planId, seq), tenant_id: 'ts', plan_id: planId, seq };
    });
    await db.collection<{ _id: string }>(PLAN_LEDGER_COLLECTION).insertMany(others);
    await db.collection<{ _id: string }>(PLANS_COLLECTION).insertMany(Array.from({ length: 200 }, () => ({ _id: randomUUID(), tenant_id: 'ts' })));
    const after = await record(() => lifecycle('ts'));
    expect(shape(after)).toBe(shape(before));
    // Reading a chain is one query, whatever the ledger holds.
    const plan = await lifecycle('ts');
    const listed = await record(() => store.ledger.listByPlan('ts', plan.plan_id));
    expect(listed.length).toBe(1);
  });

  it('an append at the end of a long chain, without the previous hash, reads one entry', async () => {
    const planId = randomUUID();
    const append = chainAppender(store.ledger);
    for (let i = 0; i < 200; i++) await append({ plan_id: planId, tenant_id: 'tl', account_id: 'a', event_type: 'PLAN_UPDATED', actor: null, data: {} });
    const fresh = new PlanStore(db, { logger: memoryLogger() });
    const events = await record(() => chainAppender(fresh.ledger, { [`tl/${planId}`]: 200 })({ plan_id: planId, tenant_id: 'tl', account_id: 'a', event_type: 'PLAN_UPDATED', actor: null, data: {} }));
    expect(events.map((e) => e.commandName)).toEqual(['find', 'insert']);
    for (const { filter } of filtersOf(events)) expect(isTenantScoped(filter)).toBe(true);
    expect(await fresh.ledger.verify('tl', planId)).toMatchObject({ valid: true, entries: 201 });
  });
});
