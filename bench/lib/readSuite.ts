import { randomUUID } from 'node:crypto';
import { BSON, type Db, type Document } from 'mongodb';
import type { PlanStatus } from '../../src/domain/enums.js';
import type { PlanStepV1 } from '../../src/domain/plan.js';
import { workIndexFields } from '../../src/domain/stepWorkload.js';
import { ensureIndexes } from '../../src/store/indexes.js';
import { tallyOf } from '../../src/domain/planTally.js';
import { MIGRATIONS_COLLECTION, WORK_FIELDS_BACKFILL, counterIncrements, tallyRecords } from '../../src/store/PlanCounters.js';
import { PLAN_COUNTERS_COLLECTION, PLAN_STEP_DUES_COLLECTION, PLAN_TALLIES_COLLECTION } from '../../src/store/planCounterIndexes.js';
import { ledgerEntryKey } from '../../src/store/PlanLedger.js';
import { ledgerChain } from './documents.js';
import { SEED_BATCH, SealedLogWriter, bulkInsert } from './seed.js';
import type { RawRead } from './types.js';

// The read suite (case 6): the dashboard's reads on a tenant with many plans, a small tenant
// beside it, and the raw driver doing the same queries. Seeded straight into the collections
// in the store's own document format (plans as PlanRepository stores them, ledger entries from
// ledgerChain: hashed, keyed by position), through the bulk path (bench/lib/seed.ts).

export const SMALL_TENANT = 'bench-small';
export const SMALL_TENANT_PLANS = 100;
/**
 * A tenant of the first size's plans, seeded like the large one, whose reads are measured in
 * alternating rounds with the large tenant's at the last size: the growth of a read is taken
 * between the two at one moment, since this machine's speed drifts more between the phases of a
 * run than a read grows (the same client work, a raw point read, cost 0.31 ms of CPU in one
 * phase and 0.48 ms in the next).
 */
export const REFERENCE_TENANT = 'bench-ref';
export const LEDGER_PER_PLAN = 10;
/** Plans per account: "by account" finds about this many. */
const PLANS_PER_ACCOUNT = 10;
/** Plans of the rare status ("by status, few matches"), whatever the size. */
export const RARE_STATUS: PlanStatus = 'ABORTED';
const RARE_PLANS = 20;
const COMMON: PlanStatus[] = ['DRAFT', 'APPROVED', 'ACTIVE', 'PAUSED', 'COMPLETED', 'EXPIRED'];
/** Ledger entries spread over the last 60 days; ledgerStats reads 14 of them. */
const SPREAD_MS = 60 * 86_400_000;
export const STATS_WINDOW_MS = 14 * 86_400_000;

/** Plan ids are the same on every store the suite seeds, so one id sample serves all. */
/** created_by of every seeded plan (the service's own plans carry their proposer). */
export const SEEDED_BY = 'bench-seed';
/**
 * Plans whose steps are due in the past: i % 10 of 1 or 2 (one plan in five; of them the APPROVED
 * and ACTIVE ones, 1 in 15 plans, are overdue). At 1,000 plans that is 66, more than a page, so
 * the overdue list returns a full page of 50 at every size and its growth compares like with like.
 */
const isPastDue = (i: number) => i % 10 === 1 || i % 10 === 2;
const OVERDUE_ONE_IN = 15;
export const planIdOf = (tenant: string, i: number) => `${tenant}-plan-${String(i).padStart(6, '0')}`;
const accountOf = (tenant: string, i: number) => `${tenant}-acct-${Math.floor(i / PLANS_PER_ACCOUNT)}`;

/** Plan i of a tenant, as the store keeps it (PlanRepository.insertStored). */
function planDocument(tenant: string, i: number, now: number): Document {
  const planId = planIdOf(tenant, i);
  // The rare status among the first 1,000 plans only: the same 20 plans at every size from 1,000 up.
  const status = i < 1000 && i % Math.floor(1000 / RARE_PLANS) === 7 ? RARE_STATUS : (COMMON[i % COMMON.length] as PlanStatus);
  const updated = new Date(now - Math.floor((((i * 7919) % 10007) / 10007) * SPREAD_MS));
  const created = new Date(updated.getTime() - 3_600_000);
  const step = randomUUID();
  const accountId = accountOf(tenant, i);
  // Past-due plans have their steps due 5 days ago (overdue while APPROVED or ACTIVE); the rest in 10 days.
  const due = new Date(now + (isPastDue(i) ? -5 : 10) * 86_400_000);
  const steps: PlanStepV1[] = [
    { step_id: step, action_type: 'PREP_RENEWAL_BRIEF', status: 'PENDING', sequence: 1, dependencies: [], due_at: due },
    { step_id: randomUUID(), action_type: 'REQUEST_RENEWAL_MEETING', status: 'PENDING', sequence: 2, dependencies: [step], constraints: { channel: 'email' }, due_at: due },
  ];
  return {
    _id: planId,
    plan_type: 'RENEWAL_DEFENSE',
    tenant_id: tenant,
    account_id: accountId,
    objective: `Keep ${accountId} through its renewal`,
    plan_status: status,
    steps,
    // As every change keeps them: the overdue list's next_due_at (the assignee fields all null).
    ...workIndexFields({ plan_status: status, steps }),
    constraints: { max_touches: 3 },
    expires_at: new Date(now + 30 * 86_400_000),
    created_at: created,
    updated_at: updated,
    created_by: SEEDED_BY,
    active_slot: status === 'ACTIVE' ? `${accountId}|RENEWAL_DEFENSE|${planId}` : planId,
    event_count: LEDGER_PER_PLAN,
    proposal: { proposal_id: randomUUID(), source: 'RULES', dropped_steps: [] },
  };
}

/** Plans `from`..`to` - 1 of a tenant, with their ledgers, in insert batches (50 plans, 500 entries). */
export function* seedBatches(tenant: string, from: number, to: number, now: number, batch = SEED_BATCH / LEDGER_PER_PLAN): Generator<{ plans: Document[]; entries: Document[] }> {
  for (let start = from; start < to; start += batch) {
    const plans: Document[] = [];
    const entries: Document[] = [];
    for (let i = start; i < Math.min(to, start + batch); i++) {
      const plan = planDocument(tenant, i, now);
      plans.push(plan);
      // The chain ends at the plan's last update; its entries a few seconds apart.
      const first = new Date((plan.updated_at as Date).getTime() - LEDGER_PER_PLAN * 1000);
      entries.push(...ledgerChain(tenant, plan._id as string, plan.account_id as string, LEDGER_PER_PLAN, first));
    }
    yield { plans, entries };
  }
}

/**
 * The read suite's data in database `bench_reads`, seeded once per run and grown as cases ask:
 * plans and their ledgers of each tenant, and on the bench's own store their sealed log (case
 * 7d proves inclusion in it), as the sealer would have written it. Mirrors (case 6's stock
 * store) get the same plan and ledger documents, without a log.
 */
export class ReadSuiteData {
  static readonly DB = 'bench_reads';
  /** The time the data is relative to (ledgerStats' window ends here). */
  readonly now = Date.now();
  private readonly plans = new Map<string, number>();
  private readonly logs = new Map<string, SealedLogWriter>();
  private readonly mirrors: Db[] = [];
  private readonly sealed = new Map<string, number>();

  private indexed: Promise<void> | null = null;

  /** `withLog`: also write the tenants' sealed log (only when a case will read it). */
  constructor(
    readonly db: Db,
    private readonly signingKey: string,
    readonly withLog: boolean,
  ) {}

  /** Plans of the tenant seeded so far. */
  plansOf(tenant: string): number {
    return this.plans.get(tenant) ?? 0;
  }

  /**
   * Another store that gets every document seeded from now on (and, to begin with, none
   * before); the returned function detaches it (before its client closes).
   */
  addMirror(db: Db): () => void {
    if ([...this.plans.values()].some((n) => n > 0)) throw new Error('a mirror must be added before the first seeding');
    this.mirrors.push(db);
    return () => {
      const i = this.mirrors.indexOf(db);
      if (i >= 0) this.mirrors.splice(i, 1);
    };
  }

  /** Seeds the tenant up to `plans` plans (10 entries each), stopping between batches at `until`; returns the plans it has. */
  async growTo(tenant: string, plans: number, until = Number.POSITIVE_INFINITY): Promise<number> {
    // The service's own indexes first, as a server started on the database would have made them.
    await (this.indexed ??= prepareStore(this.db, this.mirrors));
    const log = this.withLog ? (this.logs.get(tenant) ?? new SealedLogWriter(this.db, tenant, this.signingKey)) : null;
    if (log) this.logs.set(tenant, log);
    for (const batch of seedBatches(tenant, this.plansOf(tenant), plans, this.now)) {
      if (Date.now() >= until) break;
      await Promise.all([
        bulkInsert(this.db, 'plans', [batch.plans]),
        log ? log.append(batch.entries) : bulkInsert(this.db, 'plan_ledger', [batch.entries]),
        seedCounts(this.db, tenant, batch.plans),
        ...this.mirrors.map((db) => Promise.all([bulkInsert(db, 'plans', [batch.plans]), bulkInsert(db, 'plan_ledger', [batch.entries]), seedCounts(db, tenant, batch.plans)])),
      ]);
      this.plans.set(tenant, this.plansOf(tenant) + batch.plans.length);
    }
    return this.plansOf(tenant);
  }

  /** The id of the entry at `index` of the tenant's log: the log holds the plans' entries in seeding order. */
  entryIdAt(tenant: string, index: number): string {
    return ledgerEntryKey(tenant, planIdOf(tenant, Math.floor(index / LEDGER_PER_PLAN)), (index % LEDGER_PER_PLAN) + 1);
  }

  /** A signed checkpoint over all of the tenant's log, unless the latest covers it already; returns the log size. */
  async seal(tenant: string): Promise<number> {
    const log = this.logs.get(tenant);
    if (!log) throw new Error(`no sealed log of ${tenant} in ${ReadSuiteData.DB} (it was seeded without one)`);
    if (this.sealed.get(tenant) !== log.size) {
      await log.checkpoint();
      this.sealed.set(tenant, log.size);
    }
    return log.size;
  }
}

/** The service's indexes, and the start-up backfill recorded done (the seeded plans carry its fields), as a server's first start leaves a store. */
async function prepareStore(db: Db, mirrors: readonly Db[]): Promise<void> {
  for (const store of [db, ...mirrors]) {
    await ensureIndexes(store);
    await store.collection<{ _id: string }>(MIGRATIONS_COLLECTION).updateOne({ _id: WORK_FIELDS_BACKFILL }, { $set: { done: true } }, { upsert: true });
  }
}

/**
 * The kept counts of these plans as the service's tally job leaves them (docs/store.md, "Kept
 * counts"): each plan's tally and its due steps, and the tenant's counters moved by their
 * shares (the plans are seeded without a tally mark: already counted).
 */
async function seedCounts(db: Db, tenant: string, plans: Document[]): Promise<void> {
  const increments: Record<string, number> = {};
  const tallies: Document[] = [];
  const dues: Document[] = [];
  for (const plan of plans) {
    const tally = tallyOf(plan as unknown as Parameters<typeof tallyOf>[0]);
    counterIncrements(increments, tally, 1);
    const records = tallyRecords(tenant, plan._id as string, tally);
    tallies.push(records.tally);
    dues.push(...records.dues);
  }
  await Promise.all([
    bulkInsert(db, PLAN_TALLIES_COLLECTION, [tallies]),
    bulkInsert(db, PLAN_STEP_DUES_COLLECTION, dues.length > 0 ? [dues] : []),
    db.collection<{ _id: string }>(PLAN_COUNTERS_COLLECTION).updateOne({ _id: tenant }, { $inc: increments }, { upsert: true }),
  ]);
}

/** Some plan ids of the tenant, spread over its plans (for the point read). */
export const samplePlanIds = (tenant: string, plans: number, n = 200) => Array.from({ length: n }, (_, k) => planIdOf(tenant, Math.floor((k * plans) / n)));

/** Some accounts of the tenant (for "by account", round robin). */
export const sampleAccounts = (tenant: string, plans: number, n = 20) =>
  Array.from({ length: n }, (_, k) => accountOf(tenant, Math.floor((k * plans) / n)));

/** One read of the suite: the GraphQL bodies the service gets, and the raw driver's query. */
export interface ReadQuery {
  key: string;
  what: string;
  bodies: string[];
  raw: RawRead[];
  /** Its goal against plan(planId), if any: at most this many times its p50. */
  vsPointRead?: number;
  /** A list whose time must not grow with the data. */
  flat?: boolean;
}


const ejson = (v: unknown) => BSON.EJSON.stringify(v as Document, { relaxed: false });
const PLAN_ITEM = 'planId accountId status objective updatedAt expiresAt';
const plansBody = (filter: Document | null) =>
  JSON.stringify({
    query: `query Plans($filter: PlanFilter) { plans(filter: $filter, first: 50) { edges { cursor node { ${PLAN_ITEM} } } pageInfo { hasNextPage endCursor } } }`,
    variables: { filter },
  });
const planSort = { updated_at: -1, _id: -1 } as const;

/** The suite's reads for a tenant; `now` fixes the ledgerStats window. */
export function readQueries(tenant: string, plans: number, planIds: string[], now: number): ReadQuery[] {
  const accounts = sampleAccounts(tenant, plans);
  const since = new Date(now - STATS_WINDOW_MS);
  const until = new Date(now + 60_000);
  const statsFilter = { since: since.toISOString(), until: until.toISOString() };
  return [
    {
      key: 'plan',
      what: 'plan(planId)',
      bodies: planIds.map((id) => JSON.stringify({ query: `query Plan($id: ID!) { plan(planId: $id) { ${PLAN_ITEM} } }`, variables: { id } })),
      raw: planIds.map((id) => ({ collection: 'plans', find: ejson({ _id: id, tenant_id: tenant }), limit: 1 })),
    },
    {
      key: 'plans',
      what: 'plans(first: 50)',
      bodies: [plansBody(null)],
      raw: [{ collection: 'plans', find: ejson({ tenant_id: tenant }), sort: planSort, limit: 51 }],
      flat: true,
    },
    {
      key: 'status',
      what: `plans(first: 50) by status (${RARE_STATUS}, ${RARE_PLANS} plans)`,
      bodies: [plansBody({ status: [RARE_STATUS] })],
      raw: [{ collection: 'plans', find: ejson({ tenant_id: tenant, plan_status: { $in: [RARE_STATUS] } }), sort: planSort, limit: 51 }],
      vsPointRead: 5,
      flat: true,
    },
    {
      key: 'account',
      what: `plans(first: 50) by account (~${PLANS_PER_ACCOUNT} plans)`,
      bodies: accounts.map((accountId) => plansBody({ accountId })),
      raw: accounts.map((accountId) => ({ collection: 'plans', find: ejson({ tenant_id: tenant, account_id: accountId }), sort: planSort, limit: 51 })),
      vsPointRead: 5,
      flat: true,
    },
    {
      key: 'overdue',
      what: `plans(first: 50, filter: {overdue: true}) (1 in ${OVERDUE_ONE_IN} plans, most overdue first)`,
      bodies: [plansBody({ overdue: true })],
      raw: [{ collection: 'plans', find: ejson({ tenant_id: tenant, next_due_at: { $lt: new Date(now) } }), sort: { next_due_at: 1, _id: 1 }, limit: 51 }],
      vsPointRead: 5,
      flat: true,
    },
    {
      key: 'counts',
      what: 'planStatusCounts with open and overdue steps (kept counts; raw: the counter document)',
      bodies: [JSON.stringify({ query: '{ planStatusCounts { status count openSteps overdueSteps } }' })],
      raw: [{ collection: PLAN_COUNTERS_COLLECTION, find: ejson({ _id: tenant }), limit: 1 }],
      vsPointRead: 5,
      flat: true,
    },
    {
      key: 'feed',
      what: 'planLedger(first: 50), the tenant feed',
      bodies: [JSON.stringify({ query: '{ planLedger(first: 50) { edges { cursor node { entryId planId seq eventType timestamp actor } } pageInfo { hasNextPage endCursor } } }' })],
      raw: [{ collection: 'plan_ledger', find: ejson({ tenant_id: tenant }), sort: { timestamp: -1, _id: -1 }, limit: 51 }],
      flat: true,
    },
    {
      key: 'stats',
      what: 'ledgerStats, 14-day window',
      bodies: [JSON.stringify({ query: 'query Stats($filter: LedgerFilter) { ledgerStats(filter: $filter) { eventType day count } }', variables: { filter: statsFilter } })],
      raw: [
        {
          collection: 'plan_ledger',
          aggregate: ejson([
            { $match: { tenant_id: tenant, timestamp: { $gte: since, $lt: until } } },
            { $group: { _id: { event_type: '$event_type', day: '$day' }, count: { $sum: 1 } } },
            { $sort: { '_id.day': 1, '_id.event_type': 1 } },
          ]),
        },
      ],
    },
  ];
}
