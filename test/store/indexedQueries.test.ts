import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { MongoClient, type CommandStartedEvent, type Db, type Document } from 'mongodb';
import { PLANS_COLLECTION, PLAN_LEDGER_COLLECTION, ensureIndexes } from '../../src/store/indexes.js';
import { PLAN_COUNTERS_COLLECTION, PLAN_STEP_DUES_COLLECTION, PLAN_TALLIES_COLLECTION } from '../../src/store/planCounterIndexes.js';
import { OPEN_ASSIGNEE_FIELDS } from '../../src/domain/stepWorkload.js';
import { PlanStore, planEventId } from '../../src/store/PlanStore.js';
import type { Principal } from '../../src/auth/principal.js';
import { parsePrivateKey } from '../../src/config/ledgerSigningKey.js';
import { PlanExpiry } from '../../src/services/lifecycle/PlanExpiry.js';
import { CheckpointSigner, generateSigningKey } from '../../src/services/ledgerLog/checkpointSigner.js';
import { LedgerLogService } from '../../src/services/ledgerLog/LedgerLogService.js';
import { LedgerSealer } from '../../src/services/ledgerLog/LedgerSealer.js';
import { PlanQueryService } from '../../src/services/plans/PlanQueryService.js';
import { LEDGER_LOG_COLLECTIONS } from '../../src/store/ledgerLog/ledgerLogIndexes.js';
import { LedgerLogStore } from '../../src/store/ledgerLog/LedgerLogStore.js';
import { openTestDb, testStoreUri, type TestDb } from '../support/testDb.js';
import { draftPlan, memoryLogger } from './storeFixtures.js';
import { decideStepMove, type StepMove } from '../../src/domain/stepProgress.js';

// Every command the store sends that selects documents, through every public read and write
// path, is explained by the server it runs on: each must be
// served by an index (FerretDB: SQLite's plan says SEARCH … USING INDEX and nothing scans;
// MongoDB: no COLLSCAN). A new query that scans fails here. The five known scans are named
// below with why they may scan.

/** Reads that may scan: start-up sweeps over every tenant, which no index of the service serves. */
const KNOWN_SCANS: { why: string; matches: (command: Document) => boolean }[] = [
  {
    why: 'the kept counts\' repair lists the tenants with a counter document (one small document per tenant), hourly',
    matches: (c) => c.find === PLAN_COUNTERS_COLLECTION && JSON.stringify(c.filter) === '{}',
  },
  {
    why: 'the start-up backfill of the plan fields derived from steps walks every plan once, until it is recorded done',
    matches: (c) => c.find === PLANS_COLLECTION && JSON.stringify(c.filter) === '{}' && JSON.stringify(c.projection) === '{"_id":1}',
  },
  {
    why: 'the repair sweep (plans with an old pending event, any tenant) filters on a nested field; on FerretDB it runs at start only',
    matches: (c) => c.find === PLANS_COLLECTION && 'pending_event.timestamp' in ((c.filter as Document) ?? {}),
  },
  {
    why: "the start-up sweep (PLAN_CREATED entries of the last days, any tenant); MongoDB has no index for it either",
    matches: (c) => c.find === PLAN_LEDGER_COLLECTION && (c.filter as Document)?.event_type === 'PLAN_CREATED' && 'created_plan' in (c.filter as Document),
  },
  {
    why: "the sealer's start-up reconciliation counts every tenant's entries once (a group by tenant over a whole index); later rounds count one tenant",
    matches: (c) => c.aggregate === PLAN_LEDGER_COLLECTION && JSON.stringify(c.pipeline) === JSON.stringify([{ $group: { _id: '$tenant_id', count: { $sum: 1 } } }]),
  },
];

const LOG_COLLECTIONS = new Set<unknown>(Object.values(LEDGER_LOG_COLLECTIONS));
const COUNTER_COLLECTIONS = new Set<unknown>([PLAN_COUNTERS_COLLECTION, PLAN_TALLIES_COLLECTION, PLAN_STEP_DUES_COLLECTION]);

/** A read whose filter names _id values (an equality or $in), beside the tenant and other fields. */
function namesIds(command: Document): boolean {
  const id = ((command.filter as Document | undefined) ?? {})._id as unknown;
  return typeof id === 'string' || (typeof id === 'object' && id !== null && Array.isArray((id as Document).$in));
}

let t: TestDb;
let client: MongoClient;
let db: Db;
let ferret: boolean;
const sent: CommandStartedEvent[] = [];

/** Runs every store path the service uses. */
async function workload(): Promise<void> {
  const store = new PlanStore(db, { logger: memoryLogger() });
  const tenant = 'tenant-0';
  const proposal = { proposal_id: 'p', source: 'RULES' as const, dropped_steps: [] };
  const plans = [];
  for (let n = 0; n < 4; n++) {
    const plan = draftPlan({ tenant_id: tenant, account_id: `acc-${n % 2}` });
    // Plan 3's steps are due tomorrow (it is worked below).
    if (n === 3) plan.steps = plan.steps.map((s) => ({ ...s, due_at: new Date(Date.now() + 86_400_000) }));
    await store.createPlan({ plan, event: { actor: null, data: {} }, proposal });
    plans.push(plan);
  }
  const plan = plans[0]!;
  const id = plan.plan_id;
  const move = (from: 'DRAFT' | 'APPROVED' | 'ACTIVE', to: 'APPROVED' | 'ACTIVE' | 'PAUSED', event_type: 'PLAN_APPROVED' | 'PLAN_ACTIVATED' | 'PLAN_PAUSED') =>
    store.transition({ tenantId: tenant, planId: id, from, to, event: { event_type, actor: 'x', data: {} } });
  await store.updateDraft({ tenantId: tenant, planId: id, changes: { objective: 'edited' }, event: { actor: 'x', data: {} } });
  await move('DRAFT', 'APPROVED', 'PLAN_APPROVED');
  await move('APPROVED', 'ACTIVE', 'PLAN_ACTIVATED');
  // Step work on an ACTIVE plan (docs/steps.md), then the lists it feeds.
  const worked = plans[3]!;
  for (const [from, to, event_type] of [['DRAFT', 'APPROVED', 'PLAN_APPROVED'], ['APPROVED', 'ACTIVE', 'PLAN_ACTIVATED']] as const) {
    await store.transition({ tenantId: tenant, planId: worked.plan_id, from, to, event: { event_type, actor: 'x', data: {} } });
  }
  const work = (move: StepMove) =>
    store.change({
      tenantId: tenant,
      planId: worked.plan_id,
      event_type: move.kind === 'assign' ? 'STEP_ASSIGNED' : 'STEP_STARTED',
      decide: (p, now) => ({ set: { steps: decideStepMove(p, worked.steps[0]!.step_id, move, now).steps, updated_at: now }, event: { actor: 'x', data: {} } }),
    });
  await work({ kind: 'assign', assignee: 'alice' });
  await work({ kind: 'start' });
  const overdue = await store.plans.listPlans(tenant, { overdueAt: new Date(Date.now() + 365 * 86_400_000) }, { first: 1 });
  expect(overdue.items.map((p) => p.plan_id)).toEqual([worked.plan_id]);
  await store.plans.listPlans(tenant, { overdueAt: new Date(Date.now() + 365 * 86_400_000) }, { first: 1, after: overdue.endCursor });
  await store.plans.listPlans(tenant, { overdueAt: new Date(), assignee: 'alice' }, { first: 1 });
  const mine = await store.plans.listPlans(tenant, { assignee: 'alice' }, { first: 1 });
  await store.plans.listPlans(tenant, { assignee: 'alice' }, { first: 1, after: mine.endCursor! });
  expect((await store.plans.listPlans(tenant, { assignee: 'alice' })).items.map((p) => p.plan_id)).toEqual([worked.plan_id]);
  await move('ACTIVE', 'PAUSED', 'PLAN_PAUSED');
  // A change based on the plan as this store returned it skips its read.
  const other = await store.getPlanRepaired(tenant, plans[1]!.plan_id);
  await store.updateDraft({ tenantId: tenant, planId: other!.plan_id, changes: { objective: 'edited again' }, event: { actor: 'x', data: {} }, basedOn: other! });
  await store.getPlanRepaired(tenant, id);
  await store.getPlanWithProposal(tenant, id);
  await store.getPlanRepaired(tenant, id, plan.account_id);
  await store.plans.getPlans(tenant, [id, randomUUID()]);
  // Enough named ids that SQLite, without statistics, would rather walk the tenant's index.
  await store.plans.getPlans(tenant, [...plans.map((p) => p.plan_id), randomUUID(), randomUUID()]);
  await store.plans.existingIds([id, randomUUID()]);
  await store.plans.findActivePlanIds(tenant, plan.account_id, 'RENEWAL_DEFENSE');
  const page = await store.plans.listPlans(tenant, {}, { first: 1 });
  await store.plans.listPlans(tenant, {}, { first: 2, after: page.endCursor });
  await store.plans.listPlans(tenant, { statuses: ['DRAFT'] }, { first: 1, after: page.endCursor });
  await store.plans.listPlans(tenant, { accountId: plan.account_id }, { first: 1, after: page.endCursor });
  await store.plans.listPlans(tenant, { accountId: plan.account_id, statuses: ['DRAFT', 'PAUSED'], planType: 'RENEWAL_DEFENSE' });
  await store.plans.listPlans(tenant, { planType: 'RENEWAL_DEFENSE' });
  // The kept counts: a read before the backfill (counted from the plans), the backfill, a read
  // with marked plans, the tally job, a read after it, and an account's counts.
  await store.counters.statusCounts(tenant);
  await store.counters.backfill();
  await store.counters.statusCounts(tenant);
  await store.counters.tallyAll();
  await store.counters.statusCounts(tenant, { planType: 'RENEWAL_DEFENSE' });
  await store.counters.statusCounts(tenant, { accountId: plan.account_id, planType: 'RENEWAL_DEFENSE' });
  await store.counters.repairAll();
  const chain = await store.ledger.listByPlan(tenant, id, { first: 2 });
  await store.ledger.listByPlan(tenant, id, { first: 2, after: chain.endCursor });
  await store.ledger.listByPlans(tenant, plans.map((p) => p.plan_id), 10);
  const feed = await store.ledger.listForTenant(tenant, {}, { first: 2 });
  await store.ledger.listForTenant(tenant, {}, { first: 2, after: feed.endCursor });
  await store.ledger.listForTenant(tenant, { accountId: plan.account_id }, { first: 2, after: feed.endCursor });
  await store.ledger.listForTenant(tenant, { eventTypes: ['PLAN_CREATED', 'PLAN_APPROVED'], since: new Date(Date.now() - 86_400_000) });
  await store.ledger.listForTenant(tenant, { planId: id, eventTypes: ['PLAN_APPROVED'] });
  const until = new Date(Date.now() + 60_000);
  await store.ledger.stats(tenant, { since: new Date(until.getTime() - 14 * 86_400_000), until });
  await store.ledger.stats(tenant, { eventTypes: ['PLAN_CREATED'], accountId: plan.account_id });
  // An append without the previous hash reads the entry before it; a repeated one, its own position.
  const extra = { entry_id: planEventId(tenant, id, 6), plan_id: id, tenant_id: tenant, account_id: plan.account_id, event_type: 'PLAN_UPDATED' as const, actor: null, data: {} };
  await store.ledger.append(extra, { expectedSeq: 6 });
  await store.ledger.append(extra, { expectedSeq: 6 });
  await store.ledger.verify(tenant, id);
  await store.verifyPlanLedger(tenant, id);
  await store.outbox.repairOlderThan(0, 10, { scan: true });
  await store.outbox.restoreSince(new Date(Date.now() - 86_400_000));
  await store.plans.findExpiredIn(['APPROVED', 'ACTIVE'], new Date(), 10);

  // The verifiable ledger: sealing what the workload wrote, then every read of the API.
  const logStore = new LedgerLogStore(db, { logger: memoryLogger() });
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const sealer = new LedgerSealer({ store: logStore, signer: new CheckpointSigner(parsePrivateKey(generateSigningKey())), logger: quiet, intervalMs: 100 });
  await sealer.reconcile();
  await sealer.reconcile([tenant]);
  await sealer.sealAll();
  const queries = new PlanQueryService({ store, expiry: new PlanExpiry({ store }) });
  const log = new LedgerLogService({ store: logStore, signer: new CheckpointSigner(parsePrivateKey(generateSigningKey())), sealer, queries });
  const principal: Principal = { sub: 'x', tenantId: tenant, claimedRoles: ['plan-viewer'], roles: new Set(['plan-viewer']) };
  const latest = await log.checkpoint(principal);
  await log.checkpoint(principal, 1);
  await log.inclusionProof(principal, planEventId(tenant, id, 1));
  await log.consistencyProof(principal, 1, latest?.treeSize ?? null);
  await log.verifyCheckpoint(principal);
  await log.verifyPlan(principal, id);
  for await (const _line of log.exportLog(tenant)) void _line;
}

/** What a command asks the server to read, as a command explain takes: writes as the find they run. */
function readsOf(e: CommandStartedEvent): Document[] {
  const { lsid: _l, $db: _d, $clusterTime: _c, $readPreference: _r, txnNumber: _t, ...c } = e.command as Document;
  switch (e.commandName) {
    case 'find':
    case 'aggregate':
    case 'count':
      return [c];
    case 'findAndModify':
      return [{ find: c.findAndModify as string, filter: c.query as Document }];
    case 'update':
      return (c.updates as Document[]).map((u) => ({ find: c.update as string, filter: u.q as Document }));
    case 'delete':
      return (c.deletes as Document[]).map((d) => ({ find: c.delete as string, filter: d.q as Document }));
    default:
      return [];
  }
}

beforeAll(async () => {
  t = await openTestDb('iq');
  client = new MongoClient(testStoreUri(), { monitorCommands: true });
  await client.connect();
  db = client.db(t.dbName);
  await ensureIndexes(db);
  ferret = typeof ((await db.admin().command({ buildInfo: 1 })) as Document).ferretdbVersion === 'string';
  client.on('commandStarted', (e) => {
    const target = (e.command as Document)[e.commandName];
    if (target === PLANS_COLLECTION || target === PLAN_LEDGER_COLLECTION || LOG_COLLECTIONS.has(target) || COUNTER_COLLECTIONS.has(target)) sent.push(e);
  });
  await workload();
  client.removeAllListeners('commandStarted');
}, 120_000);
afterAll(async () => {
  await client.close();
  await t.close();
});

describe('every query the store sends is served by an index', () => {
  it('covers reads, counts and conditional writes of both collections', () => {
    const names = new Set(sent.map((e) => e.commandName));
    for (const name of ['find', 'aggregate', 'findAndModify', 'update', 'insert']) expect(names).toContain(name);
    expect(sent.flatMap(readsOf).length).toBeGreaterThan(60);
    // The step-work lists: overdue, and one query per assignee field.
    const filters = sent.flatMap(readsOf).map((c) => JSON.stringify(c.filter ?? {}));
    for (const field of ['next_due_at', ...OPEN_ASSIGNEE_FIELDS]) expect({ field, sent: filters.some((f) => f.includes(`"${field}"`)) }).toEqual({ field, sent: true });
  });

  it('the server plans each with an index (SEARCH … USING INDEX on FerretDB, no COLLSCAN on MongoDB)', async () => {
    const unique = new Map(sent.flatMap(readsOf).map((c) => [JSON.stringify(c), c]));
    const scans: Document[] = [];
    for (const command of unique.values()) {
      const explained = (await db.command({ explain: command, verbosity: 'queryPlanner' })) as Document;
      const plan = JSON.stringify(explained.queryPlanner ?? explained.stages ?? explained);
      const indexed = ferret
        ? /SEARCH \S+ USING (COVERING )?INDEX/.test(plan) && !/detail=SCAN (?!\(subquery)/.test(plan)
        : !plan.includes('COLLSCAN') && /IXSCAN|IDHACK|EXPRESS/.test(plan);
      if (KNOWN_SCANS.some((k) => k.matches(command))) continue;
      if (!indexed) scans.push({ command, plan });
      // On FerretDB the counts run in SQL, and a list's LIMIT too (the filter is exact there).
      if (ferret && command.aggregate && JSON.stringify(command.pipeline).includes('"$sum":1')) {
        expect({ command, countPushdown: explained.countPushdown }).toEqual({ command, countPushdown: true });
      }
      // The kept counts' reads: a tenant's marked plans, and the steps that fell due earlier today.
      if (ferret && command.find === PLANS_COLLECTION && JSON.stringify(command.filter).includes('"tally_mark":{"$gt"')) {
        const index = (command.filter as Document).tenant_id ? /USING INDEX \S+_plans_tenant_tally_mark / : /USING INDEX \S+_plans_tally_mark /;
        expect({ command, plan: plan.match(/SEARCH [^"]*|TEMP B-TREE/g) }).toEqual({ command, plan: [expect.stringMatching(index)] });
      }
      if (ferret && command.find === PLAN_STEP_DUES_COLLECTION && JSON.stringify(command.filter).includes('"due_at"')) {
        expect({ command, plan: plan.match(/SEARCH [^"]*|TEMP B-TREE/g) }).toEqual({ command, plan: [expect.stringMatching(/USING INDEX \S+_step_dues_tenant_due /)] });
      }
      // A read that names ids finds them by _id, never by walking the tenant in another index.
      if (ferret && namesIds(command)) {
        expect({ command, plan: plan.match(/SEARCH [^"]*/g) }).toEqual({ command, plan: [expect.stringMatching(/^SEARCH \S+ USING INDEX \S+__id_ /)] });
      }
      // The step-work lists use their own indexes, not a walk of the tenant's plans.
      if (ferret && command.find === PLANS_COLLECTION && JSON.stringify(command.filter).includes('"next_due_at"') && !JSON.stringify(command.filter).includes('open_assignee')) {
        // The index's order is the list's: no sort, the LIMIT stops the read.
        expect({ command, plan: plan.match(/SEARCH [^"]*|TEMP B-TREE/g) }).toEqual({ command, plan: [expect.stringMatching(/USING INDEX \S+_plans_tenant_next_due /)] });
      }
      const assigneeField = OPEN_ASSIGNEE_FIELDS.findIndex((f) => JSON.stringify(command.filter ?? {}).includes(`"${f}"`));
      // (With overdue too, SQLite may take either list's index: both serve it.)
      if (ferret && command.find === PLANS_COLLECTION && assigneeField >= 0 && !JSON.stringify(command.filter).includes('"next_due_at"')) {
        const index = new RegExp(`^SEARCH \\S+ USING INDEX \\S+_plans_tenant_open_assignee_${assigneeField + 1} `);
        expect({ command, plan: plan.match(/SEARCH [^"]*|TEMP B-TREE/g) }).toEqual({ command, plan: [expect.stringMatching(index)] });
      }
      if (ferret && command.find && command.limit !== undefined && command.sort !== undefined) {
        expect({ command, limitPushdown: explained.limitPushdown, sortPushdown: explained.sortPushdown }).toEqual({ command, limitPushdown: true, sortPushdown: true });
      }
    }
    expect(scans).toEqual([]);
  });

  it('the known scans are what their reason says (so the list does not hide a new one)', () => {
    const reads = sent.flatMap(readsOf);
    for (const known of KNOWN_SCANS) expect({ why: known.why, sent: reads.filter(known.matches).length > 0 }).toEqual({ why: known.why, sent: true });
  });
});
