import type { Collection, Db, Filter } from 'mongodb';
import { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import type { Page, PageArgs } from '../../domain/page.js';
import {
  countsFromOutcomes,
  MAX_RUN_ITEMS,
  PROPOSAL_RUN_ITEM_OUTCOMES,
  runItemPlanId,
  type ProposalRunCounts,
  type ProposalRunItemOutcome,
  type ProposalRunStatus,
  type SettledOutcome,
} from '../../domain/proposalRuns.js';
import type { ProposalSource } from '../../domain/enums.js';
import { TimeIdCursorSchema, afterTimeId, clampPageSize, decodeCursor, toPage } from '../cursor.js';
import { KeyedLock } from '../keyedLock.js';
import { PLANS_COLLECTION } from '../indexes.js';
import { consoleStoreLogger, isDuplicateKeyError, withStoreErrors, type StoreLogger } from '../mongoErrors.js';
import { PROPOSAL_RUN_COLLECTIONS } from './proposalRunIndexes.js';

// Proposal runs and their items (docs/runs.md). A run document is changed only by conditional
// writes on its status (and its lease); an item's outcome is written once, conditional on it
// being PENDING. Counts are never kept as counters: they are grouped from the items' outcome
// index, so they add up to the number of items whatever crashed where.

interface RunDocument {
  _id: string;
  tenant_id: string;
  status: ProposalRunStatus;
  dry_run: boolean;
  created_by: string;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  /** The next item position to hand out: positions are reserved before items are inserted. */
  next_index: number;
  /** The instance working the run, and until when (a holder that dies loses it then). */
  lease_holder: string | null;
  lease_expires_at: Date | null;
}

export interface ItemWarning {
  code: string;
  message: string;
  path?: string | null;
}

interface ItemDocument {
  _id: string;
  tenant_id: string;
  run_id: string;
  index: number;
  account_id: string;
  plan_type: string;
  /** The item's ProposePlanInput as JSON text: user JSON may hold keys a document may not. */
  input_json: string;
  outcome: ProposalRunItemOutcome;
  plan_id?: string | null;
  source?: ProposalSource | null;
  steps?: string[] | null;
  warnings?: ItemWarning[];
  error?: string | null;
  /** Tries that ended in a passing failure (store outage); the item fails after a few. */
  attempts?: number;
  /** The instance that settled the item. */
  settled_by?: string | null;
  settled_at?: Date | null;
}

export interface StoredRun {
  run_id: string;
  tenant_id: string;
  status: ProposalRunStatus;
  dry_run: boolean;
  created_by: string;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  lease_holder: string | null;
  lease_expires_at: Date | null;
}

export interface StoredRunItem {
  item_id: string;
  run_id: string;
  index: number;
  account_id: string;
  plan_type: string;
  input: Record<string, unknown>;
  outcome: ProposalRunItemOutcome;
  plan_id: string | null;
  source: ProposalSource | null;
  steps: string[] | null;
  warnings: ItemWarning[];
  error: string | null;
  attempts: number;
  settled_by: string | null;
}

export interface NewRunItem {
  account_id: string;
  plan_type: string;
  input: Record<string, unknown>;
}

export interface ItemSettlement {
  outcome: SettledOutcome;
  plan_id?: string | null;
  source?: ProposalSource | null;
  steps?: string[] | null;
  warnings?: ItemWarning[];
  error?: string | null;
}

const RunCursorSchema = TimeIdCursorSchema('run');
const ItemCursorSchema = z.strictObject({ k: z.literal('item'), i: z.number().int().min(-1) });

export const runItemId = (runId: string, index: number): string => `${runId}/${index}`;
/** An account under a plan type: what a run deduplicates on. */
export const accountKey = (accountId: string, planType: string): string => `${accountId}\u0000${planType}`;

const toRun = (d: RunDocument): StoredRun => ({
  run_id: d._id,
  tenant_id: d.tenant_id,
  status: d.status,
  dry_run: d.dry_run,
  created_by: d.created_by,
  created_at: d.created_at,
  started_at: d.started_at ?? null,
  finished_at: d.finished_at ?? null,
  lease_holder: d.lease_holder ?? null,
  lease_expires_at: d.lease_expires_at ?? null,
});

const toItem = (d: ItemDocument): StoredRunItem => ({
  item_id: d._id,
  run_id: d.run_id,
  index: d.index,
  account_id: d.account_id,
  plan_type: d.plan_type,
  input: JSON.parse(d.input_json) as Record<string, unknown>,
  outcome: d.outcome,
  // A CREATED item's plan is the one its idempotency key derives (settleItems leaves it unstored).
  plan_id: d.plan_id ?? (d.outcome === 'CREATED' ? runItemPlanId(d.tenant_id, d.run_id, d.index) : null),
  source: d.source ?? null,
  steps: d.steps ?? null,
  warnings: d.warnings ?? [],
  error: d.error ?? null,
  attempts: d.attempts ?? 0,
  settled_by: d.settled_by ?? null,
});

/** An item's outcome fields as stored (a CREATED item's derived plan id left out). */
const settledFields = (s: ItemSettlement): Partial<ItemDocument> => ({
  outcome: s.outcome,
  plan_id: s.plan_id ?? null,
  source: s.source ?? null,
  steps: s.steps ?? null,
  warnings: s.warnings ?? [],
  error: s.error ?? null,
});

/** FerretDB v1 runs a conditional findAndModify as a read and a write: reservations on one run take turns here. */
const runLocks = new KeyedLock();
const withRunLock = <T>(key: string, fn: () => Promise<T>): Promise<T> => runLocks.run(key, fn);

export class ProposalRunStore {
  private readonly runs: Collection<RunDocument>;
  private readonly items: Collection<ItemDocument>;
  private readonly plans: Collection<{ _id: string; tenant_id: string; account_id: string; plan_type: string; plan_status: string; expires_at: Date; created_at: Date }>;
  private readonly logger: StoreLogger;
  private readonly dbName: string;

  constructor(db: Db, options: { logger?: StoreLogger } = {}) {
    this.runs = db.collection(PROPOSAL_RUN_COLLECTIONS.runs);
    this.items = db.collection(PROPOSAL_RUN_COLLECTIONS.items);
    this.plans = db.collection(PLANS_COLLECTION);
    this.logger = options.logger ?? consoleStoreLogger;
    this.dbName = db.databaseName;
  }

  async createRun(run: { run_id: string; tenant_id: string; dry_run: boolean; created_by: string; created_at: Date }): Promise<StoredRun> {
    const doc: RunDocument = {
      _id: run.run_id,
      tenant_id: run.tenant_id,
      status: 'OPEN',
      dry_run: run.dry_run,
      created_by: run.created_by,
      created_at: run.created_at,
      started_at: null,
      finished_at: null,
      next_index: 0,
      lease_holder: null,
      lease_expires_at: null,
    };
    await withStoreErrors(this.logger, 'runs.create', () => this.runs.insertOne(doc));
    return toRun(doc);
  }

  async getRun(tenantId: string, runId: string): Promise<StoredRun | null> {
    const doc = await withStoreErrors(this.logger, 'runs.get', () => this.runs.findOne({ tenant_id: tenantId, _id: runId }));
    return doc ? toRun(doc) : null;
  }

  /** One item of the tenant's runs by its id (`<runId>/<position>`), or null. */
  async getItem(tenantId: string, itemId: string): Promise<StoredRunItem | null> {
    const doc = await withStoreErrors(this.logger, 'runs.getItem', () => this.items.findOne({ tenant_id: tenantId, _id: itemId }));
    return doc ? toItem(doc) : null;
  }

  async listRuns(tenantId: string, page: PageArgs = {}): Promise<Page<StoredRun>> {
    const size = clampPageSize(page.first);
    const after = page.after ? decodeCursor(page.after, RunCursorSchema) : null;
    const filter = afterTimeId<RunDocument>({ tenant_id: tenantId }, 'created_at', after);
    const docs = await withStoreErrors(this.logger, 'runs.list', () =>
      this.runs.find(filter).sort({ created_at: -1, _id: -1 }).limit(size + 1).toArray(),
    );
    return toPage(docs.map(toRun), size, (r) => ({ k: 'run', t: r.created_at.getTime(), id: r.run_id }));
  }

  /**
   * Adds items to an OPEN run at positions reserved first, so concurrent adds never share one.
   * A position that turns out taken (another instance's reservation raced this one) is
   * reserved again. If the run left OPEN while the items went in, they are taken back and the
   * call fails: a started run takes no new items.
   */
  async addItems(tenantId: string, runId: string, items: readonly NewRunItem[]): Promise<void> {
    let remaining = [...items];
    const inserted: string[] = [];
    for (let attempt = 0; remaining.length > 0; attempt++) {
      if (attempt >= 3) throw new AppError('CONFLICT', 'the run is being added to concurrently; try again');
      const first = await this.reserve(tenantId, runId, remaining.length);
      const docs: ItemDocument[] = remaining.map((item, i) => ({
        _id: runItemId(runId, first + i),
        tenant_id: tenantId,
        run_id: runId,
        index: first + i,
        account_id: item.account_id,
        plan_type: item.plan_type,
        input_json: JSON.stringify(item.input),
        outcome: 'PENDING',
        attempts: 0,
      }));
      const failed = await this.insertAll(docs);
      inserted.push(...docs.filter((_, i) => !failed.has(i)).map((d) => d._id));
      remaining = remaining.filter((_, i) => failed.has(i));
    }
    const run = await this.getRun(tenantId, runId);
    if (run?.status !== 'OPEN') {
      await withStoreErrors(this.logger, 'runs.takeBackItems', () =>
        this.items.deleteMany({ tenant_id: tenantId, run_id: runId, outcome: 'PENDING', _id: { $in: inserted } }),
      );
      throw new AppError('INVALID_TRANSITION', `the run is ${run?.status ?? 'gone'}; only an OPEN run takes items`);
    }
  }

  /** Inserts unordered; the positions (indexes into docs) whose key was taken. */
  private async insertAll(docs: ItemDocument[]): Promise<Set<number>> {
    try {
      await this.items.insertMany(docs, { ordered: false });
      return new Set();
    } catch (e) {
      const writeErrors = (e as { writeErrors?: { index: number; code?: number; errmsg?: string }[] | { index: number } }).writeErrors;
      const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
      if (list.length > 0 && list.every((w) => isDuplicateKeyError(w))) return new Set(list.map((w) => w.index));
      return withStoreErrors(this.logger, 'runs.addItems', () => Promise.reject(e));
    }
  }

  private reserve(tenantId: string, runId: string, n: number): Promise<number> {
    return withRunLock(`${this.dbName}\u0000${runId}`, () =>
      withStoreErrors(this.logger, 'runs.reserve', async () => {
        const after = await this.runs.findOneAndUpdate(
          { tenant_id: tenantId, _id: runId, status: 'OPEN', next_index: { $lte: MAX_RUN_ITEMS - n } },
          { $inc: { next_index: n } },
          { returnDocument: 'after' },
        );
        if (after) return after.next_index - n;
        const run = await this.runs.findOne({ tenant_id: tenantId, _id: runId });
        if (!run) throw new AppError('NOT_FOUND', 'no such run');
        if (run.status !== 'OPEN') throw new AppError('INVALID_TRANSITION', `the run is ${run.status}; only an OPEN run takes items`);
        throw new AppError('BAD_USER_INPUT', `a run holds at most ${MAX_RUN_ITEMS} items (it has ${run.next_index})`, { fields: ['items'] });
      }),
    );
  }

  /** Moves the run from one of `from` to `to`; null when it was in none of them (or is not there). */
  async setStatus(tenantId: string, runId: string, from: readonly ProposalRunStatus[], to: ProposalRunStatus, at: Date): Promise<StoredRun | null> {
    const stamp = to === 'RUNNING' ? { started_at: at } : to === 'COMPLETED' || to === 'CANCELLED' ? { finished_at: at } : {};
    return withRunLock(`${this.dbName}\u0000${runId}`, () =>
      withStoreErrors(this.logger, 'runs.setStatus', async () => {
        const doc = await this.runs.findOneAndUpdate(
          { tenant_id: tenantId, _id: runId, status: { $in: [...from] } },
          { $set: { status: to, ...stamp } },
          { returnDocument: 'after' },
        );
        return doc ? toRun(doc) : null;
      }),
    );
  }

  /** RUNNING runs of every tenant, oldest start first: the worker's work list. */
  async listRunning(limit: number): Promise<StoredRun[]> {
    const docs = await withStoreErrors(this.logger, 'runs.listRunning', () =>
      this.runs.find({ status: 'RUNNING' }).sort({ status: 1, started_at: 1 }).limit(limit).toArray(),
    );
    return docs.map(toRun);
  }

  /**
   * Takes or renews the run's lease for `holder` until now + ttl: true when `holder` has it.
   * Only a RUNNING run is leased, so a cancelled run's lease cannot be renewed. The lease keeps
   * instances from working one run at once; correctness does not rest on it (items are settled
   * once by a conditional write, and an item's plan id is derived from the run and the item).
   */
  async acquireLease(tenantId: string, runId: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    return withRunLock(`${this.dbName}\u0000${runId}`, () =>
      withStoreErrors(this.logger, 'runs.lease', async () => {
        const doc = await this.runs.findOneAndUpdate(
          {
            tenant_id: tenantId,
            _id: runId,
            status: 'RUNNING',
            $or: [{ lease_holder: holder }, { lease_holder: null }, { lease_expires_at: { $lt: now } }],
          },
          { $set: { lease_holder: holder, lease_expires_at: new Date(now.getTime() + ttlMs) } },
          { returnDocument: 'after' },
        );
        return doc?.lease_holder === holder;
      }),
    );
  }

  async releaseLease(tenantId: string, runId: string, holder: string): Promise<void> {
    await withRunLock(`${this.dbName}\u0000${runId}`, () =>
      withStoreErrors(this.logger, 'runs.releaseLease', () =>
        this.runs.updateOne({ tenant_id: tenantId, _id: runId, lease_holder: holder }, { $set: { lease_holder: null, lease_expires_at: null } }),
      ),
    );
  }

  /** Counts per outcome, grouped from the items' outcome index. */
  async counts(tenantId: string, runId: string): Promise<ProposalRunCounts> {
    const rows = await withStoreErrors(this.logger, 'runs.counts', () =>
      this.items
        .aggregate<{ _id: unknown; count: unknown }>([{ $match: { tenant_id: tenantId, run_id: runId } }, { $group: { _id: '$outcome', count: { $sum: 1 } } }])
        .toArray(),
    );
    const perOutcome = new Map<ProposalRunItemOutcome, number>();
    for (const row of rows) {
      const outcome = PROPOSAL_RUN_ITEM_OUTCOMES.find((o) => o === row._id);
      const count = Number(row.count);
      if (!outcome || !Number.isSafeInteger(count)) {
        this.logger.error({ row }, 'run item count row is invalid');
        throw new AppError('INTERNAL_SERVER_ERROR', 'stored run items are invalid');
      }
      perOutcome.set(outcome, count);
    }
    return countsFromOutcomes(perOutcome);
  }

  /** The run's items in order, optionally of one outcome. */
  async listItems(tenantId: string, runId: string, filter: { outcome?: ProposalRunItemOutcome }, page: PageArgs = {}): Promise<Page<StoredRunItem>> {
    const size = clampPageSize(page.first);
    const after = page.after ? decodeCursor(page.after, ItemCursorSchema).i : -1;
    const query: Filter<ItemDocument> = { tenant_id: tenantId, run_id: runId, ...(filter.outcome ? { outcome: filter.outcome } : {}), index: { $gt: after } };
    const docs = await withStoreErrors(this.logger, 'runs.listItems', () =>
      this.items.find(query).sort(filter.outcome ? { outcome: 1, index: 1 } : { index: 1 }).limit(size + 1).toArray(),
    );
    return toPage(docs.map(toItem), size, (item) => ({ k: 'item', i: item.index }));
  }

  /** PENDING items after a position, in order: the worker's next batch. */
  async pendingItems(tenantId: string, runId: string, afterIndex: number, limit: number): Promise<StoredRunItem[]> {
    const docs = await withStoreErrors(this.logger, 'runs.pendingItems', () =>
      this.items
        .find({ tenant_id: tenantId, run_id: runId, outcome: 'PENDING', index: { $gt: afterIndex } })
        .sort({ outcome: 1, index: 1 })
        .limit(limit)
        .toArray(),
    );
    return docs.map(toItem);
  }

  /** For each account (and plan type) given, the position of its first item in the run. */
  async firstIndexes(tenantId: string, runId: string, accountIds: readonly string[]): Promise<Map<string, number>> {
    const docs = await withStoreErrors(this.logger, 'runs.firstIndexes', () =>
      this.items
        .find({ tenant_id: tenantId, run_id: runId, account_id: { $in: [...new Set(accountIds)] } }, { projection: { account_id: 1, plan_type: 1, index: 1 } })
        .toArray(),
    );
    const first = new Map<string, number>();
    for (const d of docs) {
      const key = accountKey(d.account_id, d.plan_type);
      first.set(key, Math.min(first.get(key) ?? Infinity, d.index));
    }
    return first;
  }

  /**
   * The open plans (DRAFT, APPROVED, ACTIVE, PAUSED) of these accounts, by account and plan
   * type, in one query on the plans' {tenant, account, type, status} index; an APPROVED or ACTIVE
   * plan past its expiry is not open (reads expire it). The plans collection is PlanRepository's:
   * this reads only what a run's dedup needs, in bulk.
   */
  async openPlans(tenantId: string, accountIds: readonly string[], now: Date): Promise<Map<string, { plan_id: string; created_at: Date }[]>> {
    const docs = await withStoreErrors(this.logger, 'runs.openPlans', () =>
      this.plans
        .find(
          { tenant_id: tenantId, account_id: { $in: [...new Set(accountIds)] }, plan_status: { $in: ['DRAFT', 'APPROVED', 'ACTIVE', 'PAUSED'] } },
          { projection: { account_id: 1, plan_type: 1, plan_status: 1, expires_at: 1, created_at: 1 } },
        )
        .toArray(),
    );
    const open = new Map<string, { plan_id: string; created_at: Date }[]>();
    for (const d of docs) {
      if ((d.plan_status === 'APPROVED' || d.plan_status === 'ACTIVE') && d.expires_at instanceof Date && d.expires_at.getTime() <= now.getTime()) continue;
      const key = accountKey(d.account_id, d.plan_type);
      open.set(key, [...(open.get(key) ?? []), { plan_id: d._id, created_at: d.created_at }].sort((a, b) => b.created_at.getTime() - a.created_at.getTime()));
    }
    return open;
  }

  /**
   * Writes each item's outcome if it is still PENDING; how many were written. Items with the
   * same outcome fields (a chunk's CREATED items of one generator answer, whose plan ids are
   * derived, not stored) are one updateMany: one write transaction on the embedded store, where
   * each update of a bulk write is its own.
   */
  async settleItems(tenantId: string, settled: readonly { itemId: string; settlement: ItemSettlement }[], by: string, at: Date): Promise<number> {
    const groups = new Map<string, { set: Partial<ItemDocument>; ids: string[] }>();
    for (const { itemId, settlement } of settled) {
      const set = settledFields(settlement);
      const key = JSON.stringify(set);
      const group = groups.get(key) ?? { set, ids: [] };
      group.ids.push(itemId);
      groups.set(key, group);
    }
    let written = 0;
    for (const { set, ids } of groups.values()) {
      const result = await withStoreErrors(this.logger, 'runs.settleItems', () =>
        this.items.updateMany({ tenant_id: tenantId, _id: { $in: ids }, outcome: 'PENDING' }, { $set: { ...set, settled_by: by, settled_at: at } }),
      );
      written += result.modifiedCount;
    }
    return written;
  }

  /** Counts a passing failure of a PENDING item; the tries so far. */
  async countAttempt(tenantId: string, itemId: string): Promise<number> {
    const doc = await withStoreErrors(this.logger, 'runs.countAttempt', () =>
      this.items.findOneAndUpdate({ tenant_id: tenantId, _id: itemId, outcome: 'PENDING' }, { $inc: { attempts: 1 } }, { returnDocument: 'after' }),
    );
    return doc?.attempts ?? 0;
  }

  /** True when the run has an item still PENDING. */
  async hasPending(tenantId: string, runId: string): Promise<boolean> {
    return (await this.pendingItems(tenantId, runId, -1, 1)).length > 0;
  }
}
