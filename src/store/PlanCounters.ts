import { randomUUID } from 'node:crypto';
import type { AnyBulkWriteOperation, Collection, Db, Filter } from 'mongodb';
import { PLAN_STATUSES, PLAN_TYPES, type PlanStatus, type PlanType } from '../domain/enums.js';
import { RevenuePlanV1Schema } from '../domain/plan.js';
import { StatusCounts, tallyOf, utcDay, type PlanTally, type StatusCount } from '../domain/planTally.js';
import { workIndexFields } from '../domain/stepWorkload.js';
import { PLANS_COLLECTION } from './indexes.js';
import { PLAN_COUNTERS_COLLECTION, PLAN_STEP_DUES_COLLECTION, PLAN_TALLIES_COLLECTION } from './planCounterIndexes.js';
import { acquireLease, releaseLease, type LeaseDoc } from './leases.js';
import { insertAllowingDuplicates } from './insertEach.js';
import { consoleStoreLogger, isDuplicateKeyError, withStoreErrors, type StoreLogger } from './mongoErrors.js';
import { withPlanLock } from './PlanRepository.js';
import { repeat, type Repeating } from '../runtime/repeat.js';
import { newTallyMark, noteMarked, takeMarked, TALLY_MARK } from './tallyMark.js';

// Kept counts per tenant (docs/store.md, "Kept counts"): planStatusCounts reads one counter
// document instead of walking the plans index. Every plan write sets the plan's tally_mark (in
// the same document write: no extra command on the request path); off the request path, the
// tally job moves each marked plan's share (its PlanTally) from what was counted to what it is
// now. Without transactions, a batch is journaled in the counter document by the same write
// that adds its increments, then settled: each plan's tally stored, its mark cleared if it is
// still the one seen. A crash anywhere leaves either nothing applied (the marks remain) or the
// journal, which the next run settles again (every settle step writes absolute values).
// Reads are exact at any moment: they add the share of plans still marked.

const LEASES_COLLECTION = 'plan_counter_leases';
/** Start-up migrations recorded done (the bench's seeding records the backfill as done, as a server's first start would). */
export const MIGRATIONS_COLLECTION = 'store_migrations';
/** The start-up backfill of the plan fields derived from steps (next_due_at, open_assignee_N, tally_mark). */
export const WORK_FIELDS_BACKFILL = 'plan-work-fields-v1';


/** Reads of the kept counts before a read counts the plans instead (each retried when a batch committed meanwhile). */
const READ_ATTEMPTS = 3;
/** Marked plans a read corrects for at most; past it (a backfill under way) it counts the plans. */
const READ_BACKLOG_MAX = 500;
/** Plans one tally batch moves at most. */
const TALLY_BATCH = 200;
/** Marks one clearing statement names at most (the embedded store writes a statement's documents in one transaction). */
const MARKS_PER_CLEAR = 200;
/** Runs of the job between two looks at the store for every tenant with marked plans (each run takes the tenants this process marked). */
const DISCOVER_EVERY = 10;
/** Plan ids the backfill's pass reads per batch. */
const BACKFILL_BATCH = 500;
const LEASE_TTL_MS = 30_000;

interface StoredTally {
  plan_type: PlanType;
  status: PlanStatus;
  open: number;
  dues: Date[];
}

interface JournalEntry {
  plan_id: string;
  /** The mark seen when the batch was decided: cleared only if still the plan's. */
  mark: string;
  tally: StoredTally;
  /** Set when nothing was counted for the plan before: it has no stored due steps to replace. */
  first?: true;
}

interface CounterDoc {
  _id: string;
  /** Batches committed: a read that saw it move reads again. */
  v?: number;
  /** c.<plan type>.<status>: plans and their open steps. */
  c?: Partial<Record<string, Partial<Record<string, { plans?: number; open?: number }>>>>;
  /** due.<plan type>.<status>.<UTC day>: open steps that can be overdue, by the day they fall due. */
  due?: Partial<Record<string, Partial<Record<string, Record<string, number>>>>>;
  journal?: JournalEntry[];
}

export interface TallyDoc extends StoredTally {
  _id: string;
  tenant_id: string;
}

/** One open step that can be overdue, stored for the count of those due earlier today. */
export interface StepDueDoc {
  _id: string;
  tenant_id: string;
  plan_id: string;
  plan_type: PlanType;
  status: PlanStatus;
  due_at: Date;
}

interface MigrationDoc {
  _id: string;
  done: boolean;
}

type PlanDoc = { _id: string } & Record<string, unknown>;

/** The documents that record one plan's share as counted: its tally and its open steps that can be overdue (also the bench's seeding). */
export function tallyRecords(tenantId: string, planId: string, tally: PlanTally): { tally: TallyDoc; dues: StepDueDoc[] } {
  return {
    tally: { _id: planId, tenant_id: tenantId, ...tally },
    dues: tally.dues.map((due_at, i) => ({ _id: `${tenantId}|${planId}|${i}`, tenant_id: tenantId, plan_id: planId, plan_type: tally.plan_type, status: tally.status, due_at })),
  };
}

const TallySourceSchema = RevenuePlanV1Schema.pick({ plan_type: true, plan_status: true, steps: true });
const PLAN_TALLY_PROJECTION = { _id: 1, tenant_id: 1, plan_type: 1, plan_status: 1, steps: 1, [TALLY_MARK]: 1 } as const;


export interface PlanCountersOptions {
  logger?: StoreLogger;
  now?: () => Date;
  /** Test-only: throws at this point of a tally batch, as a crash would stop it there. */
  crashAt?: 'after-journal' | 'after-tallies';
}

const counterKey = (dbName: string, tenantId: string) => `${dbName}\u0000counters\u0000${tenantId}`;

export class PlanCounters {
  private readonly plans: Collection<PlanDoc>;
  private readonly counters: Collection<CounterDoc>;
  private readonly tallies: Collection<TallyDoc>;
  private readonly dues: Collection<StepDueDoc>;
  private readonly leases: Collection<LeaseDoc>;
  private readonly migrations: Collection<MigrationDoc>;
  private readonly dbName: string;
  private readonly logger: StoreLogger;
  private readonly now: () => Date;
  private readonly holder = `counters-${randomUUID()}`;
  private backfilled = false;

  constructor(
    db: Db,
    private readonly options: PlanCountersOptions = {},
  ) {
    this.plans = db.collection<PlanDoc>(PLANS_COLLECTION);
    this.counters = db.collection<CounterDoc>(PLAN_COUNTERS_COLLECTION);
    this.tallies = db.collection<TallyDoc>(PLAN_TALLIES_COLLECTION);
    this.dues = db.collection<StepDueDoc>(PLAN_STEP_DUES_COLLECTION);
    this.leases = db.collection<LeaseDoc>(LEASES_COLLECTION);
    this.migrations = db.collection<MigrationDoc>(MIGRATIONS_COLLECTION);
    this.dbName = db.databaseName;
    this.logger = options.logger ?? consoleStoreLogger;
    this.now = options.now ?? (() => new Date());
  }

  // ---- reads ----

  /**
   * Plans, open steps and overdue steps per status (statuses without plans left out), for the
   * tenant or one account (an account's plans are few: counted from its plans), optionally of
   * one plan type. Exact at `now`: the counter document, the steps that fell due earlier today,
   * and the share of plans written since their last tally.
   */
  async statusCounts(tenantId: string, scope: { accountId?: string | null; planType?: PlanType | null } = {}, now = this.now()): Promise<StatusCount[]> {
    return withStoreErrors(this.logger, 'counters.statusCounts', async () => {
      const match: Filter<PlanDoc> = { tenant_id: tenantId, ...(scope.planType ? { plan_type: scope.planType } : {}) };
      if (scope.accountId) return this.countPlans({ ...match, account_id: scope.accountId }, now);
      if (!(await this.isBackfilled())) return this.countPlans(match, now);
      // The counter document is read before and after the rest: a batch committed in between
      // (its version moved) could pair new tallies with old counters, so the read is taken again.
      for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
        const before = await this.counters.findOne({ _id: tenantId });
        const counts = await this.countsFrom(tenantId, match, scope.planType ?? null, before, now);
        if (counts === 'backlog') break;
        const after = await this.counters.findOne({ _id: tenantId }, { projection: { v: 1 } });
        if ((after?.v ?? 0) === (before?.v ?? 0)) return counts.toRows();
      }
      return this.countPlans(match, now);
    });
  }

  /** The kept counts as of `doc`, with today's due steps and the marked plans read after it. */
  private async countsFrom(tenantId: string, match: Filter<PlanDoc>, planType: PlanType | null, doc: CounterDoc | null, now: Date): Promise<StatusCounts | 'backlog'> {
    const dayStart = new Date(`${utcDay(now)}T00:00:00.000Z`);
    const [marked, dueToday] = await Promise.all([
      this.plans
        .find({ ...match, [TALLY_MARK]: { $gt: '' } }, { projection: PLAN_TALLY_PROJECTION })
        .limit(READ_BACKLOG_MAX + 1)
        .toArray(),
      this.dues
        .find({ tenant_id: tenantId, due_at: { $gte: dayStart, $lt: now }, ...(planType ? { plan_type: planType } : {}) }, { projection: { plan_id: 1, status: 1 } })
        .toArray(),
    ]);
    if (marked.length > READ_BACKLOG_MAX) return 'backlog';
    const counts = new StatusCounts();
    const inScope = (type: string) => PLAN_TYPES.some((t) => t === type) && (!planType || planType === type);
    for (const [type, byStatus] of Object.entries(doc?.c ?? {})) {
      if (!inScope(type)) continue;
      for (const status of PLAN_STATUSES) counts.add(status, { count: byStatus?.[status]?.plans ?? 0, openSteps: byStatus?.[status]?.open ?? 0 });
    }
    const today = utcDay(now);
    for (const [type, byStatus] of Object.entries(doc?.due ?? {})) {
      if (!inScope(type)) continue;
      for (const status of PLAN_STATUSES) {
        for (const [day, n] of Object.entries(byStatus?.[status] ?? {})) if (day < today) counts.add(status, { overdueSteps: n });
      }
    }
    // Steps due earlier today, as tallied: a journaled plan's from its journal entry.
    const journal = new Map((doc?.journal ?? []).map((j) => [j.plan_id, j.tally]));
    for (const due of dueToday) if (!journal.has(due.plan_id)) counts.add(due.status, { overdueSteps: 1 });
    for (const tally of journal.values()) {
      if (!inScope(tally.plan_type)) continue;
      counts.add(tally.status, { overdueSteps: tally.dues.filter((d) => d >= dayStart && d < now).length });
    }
    // Plans written since they were tallied: their share moves from the tallied to the current.
    if (marked.length > 0) {
      const stored = await this.tallies.find({ tenant_id: tenantId, _id: { $in: marked.filter((p) => !journal.has(p._id)).map((p) => p._id) } }).toArray();
      const counted = new Map<string, StoredTally>([...stored.map((t) => [t._id, t] as const), ...journal]);
      for (const plan of marked) {
        const was = counted.get(plan._id);
        if (was) counts.addTally(was, now, -1);
        counts.addTally(this.tallyOfDoc(plan), now);
      }
    }
    return counts;
  }

  /** The counts from the plans themselves: an account's, or the tenant's while the backfill runs. */
  private async countPlans(match: Filter<PlanDoc>, now: Date): Promise<StatusCount[]> {
    const counts = new StatusCounts();
    for await (const doc of this.plans.find(match, { projection: PLAN_TALLY_PROJECTION })) counts.addTally(this.tallyOfDoc(doc), now);
    return counts.toRows();
  }

  private tallyOfDoc(doc: PlanDoc): PlanTally {
    const parsed = TallySourceSchema.safeParse(doc);
    if (!parsed.success) {
      this.logger.error({ plan_id: doc._id, issues: parsed.error.issues }, 'stored plan is invalid');
      throw new Error(`stored plan ${doc._id} is invalid`);
    }
    return tallyOf(parsed.data);
  }

  private async isBackfilled(): Promise<boolean> {
    if (!this.backfilled) this.backfilled = (await this.migrations.findOne({ _id: WORK_FIELDS_BACKFILL }))?.done === true;
    return this.backfilled;
  }

  // ---- the tally job ----

  /**
   * Moves the share of up to `limit` marked plans of the tenant into its counters; returns how
   * many. One batch at a time per tenant in this process (a lock), and one instance at a time
   * (a lease, for the wasted effort only: the journal's conditional write and the marks keep
   * the counts exact).
   */
  async tallyTenant(tenantId: string, limit = TALLY_BATCH): Promise<number> {
    return withStoreErrors(this.logger, 'counters.tally', () =>
      withPlanLock(counterKey(this.dbName, tenantId), async () => {
        const existing = await this.counters.findOne({ _id: tenantId });
        if (existing?.journal) await this.settle(tenantId, existing.journal);
        const marked = await this.plans
          .find({ tenant_id: tenantId, [TALLY_MARK]: { $gt: '' } }, { projection: PLAN_TALLY_PROJECTION })
          .limit(limit)
          .toArray();
        if (marked.length === 0) return 0;
        const stored = new Map((await this.tallies.find({ tenant_id: tenantId, _id: { $in: marked.map((p) => p._id) } }).toArray()).map((t) => [t._id, t]));
        const increments: Record<string, number> = {};
        const journal: JournalEntry[] = marked.map((plan) => {
          const tally = this.tallyOfDoc(plan);
          const was = stored.get(plan._id);
          if (was) counterIncrements(increments, was, -1);
          counterIncrements(increments, tally, 1);
          return { plan_id: plan._id, mark: String(plan[TALLY_MARK]), tally, ...(was ? {} : { first: true as const }) };
        });
        const inc = { ...Object.fromEntries(Object.entries(increments).filter(([, n]) => n !== 0)), v: 1 };
        const update = { $set: { journal }, $inc: inc };
        // The commit point: the increments and the journal in one document write.
        if (existing) {
          const written = await this.counters.updateOne({ _id: tenantId, journal: { $exists: false } }, update);
          if (written.modifiedCount !== 1) return 0;
        } else {
          try {
            await this.counters.insertOne({ _id: tenantId });
          } catch (e) {
            if (!isDuplicateKeyError(e)) throw e;
          }
          const written = await this.counters.updateOne({ _id: tenantId, journal: { $exists: false } }, update);
          if (written.modifiedCount !== 1) return 0;
        }
        if (this.options.crashAt === 'after-journal') throw new Error('simulated crash after the journal write');
        await this.settle(tenantId, journal);
        return marked.length;
      }),
    );
  }

  /** Stores the journal's tallies, clears the marks still as seen, then the journal: every step idempotent. */
  private async settle(tenantId: string, journal: readonly JournalEntry[]): Promise<void> {
    const records = journal.map((j) => ({ first: j.first === true, ...tallyRecords(tenantId, j.plan_id, j.tally) }));
    // A plan counted for the first time had no tally and no due steps when the journal was
    // written, and only this journal writes them until it is settled: its records are inserted
    // (one insert for all, where each upsert is a read and a write of its own), and a duplicate
    // is this journal's own record, stored by a settle a crash cut short.
    const firsts = records.filter((r) => r.first);
    const again = records.filter((r) => !r.first);
    const tallyOps: AnyBulkWriteOperation<TallyDoc>[] = again.map(({ tally: { _id, ...replacement } }) => ({ replaceOne: { filter: { _id }, replacement, upsert: true } }));
    const dueOps: AnyBulkWriteOperation<StepDueDoc>[] = again.flatMap(({ tally, dues }) => [
      { deleteMany: { filter: { tenant_id: tenantId, plan_id: tally._id, _id: { $nin: dues.map((d) => d._id) } } } },
      ...dues.map(({ _id, ...replacement }) => ({ replaceOne: { filter: { _id }, replacement, upsert: true } })),
    ]);
    await Promise.all([insertAllowingDuplicates(this.tallies, firsts.map((r) => r.tally)), insertAllowingDuplicates(this.dues, firsts.flatMap((r) => r.dues))]);
    if (tallyOps.length > 0) await this.tallies.bulkWrite(tallyOps, { ordered: false });
    if (dueOps.length > 0) await this.dues.bulkWrite(dueOps, { ordered: true });
    if (this.options.crashAt === 'after-tallies') throw new Error('simulated crash after the tallies');
    // One statement clears every mark still as seen: marks are unique random values, so a plan
    // matches only with the mark seen for it, and each document's match and write are one step
    // (MongoDB; the embedded store with its patch set: docs/store.md). A plan written meanwhile
    // keeps its new mark and is counted again next time.
    for (let i = 0; i < journal.length; i += MARKS_PER_CLEAR) {
      const part = journal.slice(i, i + MARKS_PER_CLEAR);
      await this.plans.updateMany(
        { tenant_id: tenantId, _id: { $in: part.map((j) => j.plan_id) }, [TALLY_MARK]: { $in: part.map((j) => j.mark) } },
        { $unset: { [TALLY_MARK]: '' } },
      );
    }
    await this.counters.updateOne({ _id: tenantId }, { $unset: { journal: '' } });
  }

  // ---- the repair ----

  /**
   * Recounts the tenant from its plans and repairs what the protocol cannot see: a plan written
   * without a mark (by hand, or by an instance of an older version during an upgrade) is marked
   * when what was counted for it is not what it is now, and the counter document is rebuilt from
   * the stored tallies when they disagree. Under the tenant's lock, after settling any journal
   * (with no journal, the counter document is the sum of the tallies); returns how many plans it
   * marked and whether it rebuilt the counters.
   */
  async repairTenant(tenantId: string): Promise<{ marked: number; rebuilt: boolean }> {
    return withStoreErrors(this.logger, 'counters.repair', () =>
      withPlanLock(counterKey(this.dbName, tenantId), async () => {
        const existing = await this.counters.findOne({ _id: tenantId });
        if (existing?.journal) await this.settle(tenantId, existing.journal);
        const counted = new Map<string, StoredTally>();
        const sums: Record<string, number> = {};
        for await (const t of this.tallies.find({ tenant_id: tenantId })) {
          counted.set(t._id, t);
          counterIncrements(sums, t, 1);
        }
        let marked = 0;
        for await (const plan of this.plans.find({ tenant_id: tenantId }, { projection: PLAN_TALLY_PROJECTION })) {
          if (plan[TALLY_MARK] !== undefined || sameTally(counted.get(plan._id), this.tallyOfDoc(plan))) continue;
          const written = await withPlanLock(`${this.dbName}\u0000${plan._id}`, () =>
            this.plans.updateOne({ tenant_id: tenantId, _id: plan._id, [TALLY_MARK]: { $exists: false } }, { $set: { [TALLY_MARK]: newTallyMark() } }),
          );
          marked += written.modifiedCount;
        }
        const kept = flatCounts(existing ?? { _id: tenantId });
        const drifted = Object.keys({ ...kept, ...sums }).some((k) => (kept[k] ?? 0) !== (sums[k] ?? 0));
        if (drifted) {
          this.logger.warn({ tenant_id: tenantId }, 'kept plan counts disagreed with the counted plans; rebuilt from them');
          await this.counters.replaceOne({ _id: tenantId }, { ...unflatCounts(tenantId, sums), v: (existing?.v ?? 0) + 1 }, { upsert: true });
        }
        return { marked, rebuilt: drifted };
      }),
    );
  }

  /** Repairs every tenant with kept counts, each under its lease; returns how many plans it marked. */
  async repairAll(): Promise<number> {
    let marked = 0;
    for (const { _id: tenantId } of await this.counters.find({}, { projection: { _id: 1 } }).toArray()) {
      const lease = `tally:${tenantId}`;
      if (!(await acquireLease(this.leases, lease, this.holder, this.now(), LEASE_TTL_MS))) continue;
      try {
        marked += (await this.repairTenant(tenantId)).marked;
      } finally {
        await releaseLease(this.leases, lease, this.holder).catch(() => undefined);
      }
    }
    return marked;
  }

  /** Tenants with marked plans (up to `limit` marked plans looked at). */
  async markedTenants(limit = 1000): Promise<string[]> {
    return withStoreErrors(this.logger, 'counters.markedTenants', async () => {
      const docs = await this.plans.find({ [TALLY_MARK]: { $gt: '' } }, { projection: { tenant_id: 1 } }).limit(limit).toArray();
      return [...new Set(docs.map((d) => d.tenant_id).filter((t): t is string => typeof t === 'string'))];
    });
  }

  /**
   * Tallies tenants with marked plans, each under its lease; returns how many plans. The
   * tenants are those this process marked plans of since the last run and, with `discover`
   * (the default), every tenant with a marked plan in the store.
   */
  async tallyAll(options: { discover?: boolean } = {}): Promise<number> {
    let tallied = 0;
    const tenants = new Set(takeMarked(this.dbName));
    if (options.discover !== false) for (const tenantId of await this.markedTenants()) tenants.add(tenantId);
    const pending = [...tenants];
    try {
      for (; pending.length > 0; pending.shift()) {
        const tenantId = pending[0]!;
        const lease = `tally:${tenantId}`;
        // Held by another instance (or by one that died, until the lease runs out): tried again next run.
        if (!(await acquireLease(this.leases, lease, this.holder, this.now(), LEASE_TTL_MS))) {
          noteMarked(this.dbName, tenantId);
          continue;
        }
        try {
          // Full batches only: a tenant written to all the time would otherwise be tallied a plan
          // or two per batch, each batch paying its fixed commands; what came meanwhile waits for the next run.
          let n: number;
          do {
            n = await this.tallyTenant(tenantId);
            tallied += n;
          } while (n === TALLY_BATCH);
        } finally {
          await releaseLease(this.leases, lease, this.holder).catch(() => undefined);
        }
      }
    } finally {
      // A run an error cut short leaves the tenants it did not finish to the next run.
      for (const tenantId of pending) noteMarked(this.dbName, tenantId);
    }
    return tallied;
  }

  // ---- the backfill ----

  /**
   * The start-up backfill, until it is recorded done: every plan (any tenant, one pass over the
   * collection) gets the fields derived from its steps and a tally mark, each by a write
   * conditional on the plan as read (a plan changed meanwhile is read again). Idempotent: the
   * same values again, and a mark only re-tallies; a pass a crash cut short runs again whole.
   * Returns how many plans it went through.
   */
  async backfill(): Promise<number> {
    return withStoreErrors(this.logger, 'counters.backfill', async () => {
      if (await this.isBackfilled()) return 0;
      let seen = 0;
      for await (const { _id } of this.plans.find({}, { projection: { _id: 1 }, batchSize: BACKFILL_BATCH })) {
        await this.backfillPlan(_id);
        seen += 1;
      }
      await this.migrations.updateOne({ _id: WORK_FIELDS_BACKFILL }, { $set: { done: true } }, { upsert: true });
      this.backfilled = true;
      return seen;
    });
  }

  private async backfillPlan(planId: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const doc = await this.plans.findOne({ _id: planId });
      if (!doc || doc.pending_event !== undefined) return; // its change's own write sets the fields and a mark
      const source = TallySourceSchema.safeParse(doc);
      if (!source.success) return; // an invalid plan is reported where it is read
      const written = await withPlanLock(`${this.dbName}\u0000${planId}`, () =>
        this.plans.updateOne(
          { _id: planId, plan_status: doc.plan_status, event_count: doc.event_count, pending_event: { $exists: false } },
          { $set: { ...workIndexFields(source.data), [TALLY_MARK]: newTallyMark() } },
        ),
      );
      if (written.matchedCount === 1) return;
    }
  }

  /** The backfill until done, then the tally job, every intervalMs, and the repair every repairIntervalMs, until stop(). */
  start(options: { intervalMs: number; repairIntervalMs: number }): Repeating {
    let repairedAt = Date.now();
    let runs = 0;
    return repeat(
      async () => {
        await this.backfill();
        await this.tallyAll({ discover: runs++ % DISCOVER_EVERY === 0 });
        if (Date.now() - repairedAt < options.repairIntervalMs) return;
        repairedAt = Date.now();
        const marked = await this.repairAll();
        if (marked > 0) this.logger.warn({ marked }, 'plans written without a tally mark were marked for the kept counts');
      },
      { intervalMs: options.intervalMs, firstDelayMs: 0, onError: (e) => this.logger.warn({ err: String(e) }, 'plan counters job failed; will retry') },
    );
  }
}

/** The counter document's increments for adding (1) or removing (-1) one plan's share (also the bench's seeding). */
export function counterIncrements(into: Record<string, number>, tally: StoredTally, sign: 1 | -1): void {
  const base = `${tally.plan_type}.${tally.status}`;
  const add = (key: string, n: number) => {
    into[key] = (into[key] ?? 0) + n;
  };
  add(`c.${base}.plans`, sign);
  add(`c.${base}.open`, sign * tally.open);
  for (const due of tally.dues) add(`due.${base}.${utcDay(due)}`, sign);
}

const sameTally = (a: StoredTally | undefined, b: PlanTally): boolean =>
  a !== undefined && a.plan_type === b.plan_type && a.status === b.status && a.open === b.open && a.dues.length === b.dues.length && a.dues.every((d, i) => d.getTime() === b.dues[i]!.getTime());

/** The counter document's numbers by their dotted keys (as counterIncrements names them). */
function flatCounts(doc: CounterDoc): Record<string, number> {
  const flat: Record<string, number> = {};
  for (const [type, byStatus] of Object.entries(doc.c ?? {})) {
    for (const [status, n] of Object.entries(byStatus ?? {})) {
      flat[`c.${type}.${status}.plans`] = n?.plans ?? 0;
      flat[`c.${type}.${status}.open`] = n?.open ?? 0;
    }
  }
  for (const [type, byStatus] of Object.entries(doc.due ?? {})) {
    for (const [status, days] of Object.entries(byStatus ?? {})) for (const [day, n] of Object.entries(days ?? {})) flat[`due.${type}.${status}.${day}`] = n;
  }
  return flat;
}

function unflatCounts(tenantId: string, flat: Record<string, number>): CounterDoc {
  const doc: Record<string, unknown> = { _id: tenantId };
  for (const [key, n] of Object.entries(flat)) {
    if (n === 0) continue;
    const path = key.split('.');
    let at = doc;
    for (const part of path.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
    at[path.at(-1)!] = n;
  }
  return doc as unknown as CounterDoc;
}
