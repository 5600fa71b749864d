import { randomUUID } from 'node:crypto';
import type { Collection, Db, Filter } from 'mongodb';
import { z } from 'zod';
import { LEDGER_EVENT_TYPES, type LedgerEventType } from '../domain/enums.js';
import { AppError } from '../domain/errors.js';
import { LedgerEntryRecordSchema, type LedgerAppend, type LedgerEntryRecord } from '../domain/ledger.js';
import {
  SeqCursorSchema,
  TimeIdCursorSchema,
  clampPageSize,
  decodeCursor,
  toPage,
  type Page,
  type PageArgs,
} from './cursor.js';
import { PLAN_LEDGER_COLLECTION } from './indexes.js';
import { hashLedgerEntry, toStorableJson, utcDay } from './ledgerHash.js';
import { consoleStoreLogger, isDuplicateKeyError, withStoreErrors, type StoreLogger } from './mongoErrors.js';

// The append-only, hash-chained ledger (collection plan_ledger, _id = entry_id). Each entry
// carries seq (1, 2, … per plan), the previous entry's hash and its own. The unique index
// {tenant_id, plan_id, seq} is what keeps a chain from forking: two appends that read the same
// last entry race for the same seq, one insert wins, the other re-reads and retries. This
// class has no update or delete path on purpose.

/** What a ledger list can be narrowed to. `since` is inclusive, `until` exclusive. */
export interface LedgerFilter {
  planId?: string | null;
  accountId?: string | null;
  eventTypes?: readonly LedgerEventType[] | null;
  since?: Date | null;
  until?: Date | null;
}

export interface LedgerVerification {
  plan_id: string;
  valid: boolean;
  entries: number;
  /** The first seq where the chain does not hold, or null when it holds. */
  broken_at_seq: number | null;
}
export type LedgerVerificationResult = LedgerVerification;

export interface LedgerEventCount {
  event_type: LedgerEventType;
  day: string;
  count: number;
}

export interface PlanLedgerOptions {
  logger?: StoreLogger;
  now?: () => Date;
  /** Bound on insert attempts when other writers keep taking the next seq. */
  maxAppendAttempts?: number;
}

/** An entry as stored: entry_id lives in _id. */
type LedgerDocument = { _id: string } & Record<string, unknown>;

const AppendSchema = z.object({
  entry_id: z.string().min(1).max(256).optional(),
  plan_id: z.string().min(1),
  tenant_id: z.string().min(1),
  account_id: z.string().min(1),
  event_type: z.enum(LEDGER_EVENT_TYPES),
  actor: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  timestamp: z.date().optional(),
});

const FeedCursorSchema = TimeIdCursorSchema('feed');

const BACKOFF_BASE_MS = 2;
const BACKOFF_CAP_MS = 40;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class PlanLedger {
  private readonly entries: Collection<LedgerDocument>;
  private readonly logger: StoreLogger;
  private readonly now: () => Date;
  private readonly maxAttempts: number;
  /** Appends to one plan through this instance queue up, so they do not race each other. */
  private readonly appendQueues = new Map<string, Promise<unknown>>();

  constructor(db: Db, options: PlanLedgerOptions = {}) {
    this.entries = db.collection<LedgerDocument>(PLAN_LEDGER_COLLECTION);
    this.logger = options.logger ?? consoleStoreLogger;
    this.now = options.now ?? (() => new Date());
    this.maxAttempts = options.maxAppendAttempts ?? 40;
  }

  /**
   * Appends one entry at the end of its plan's chain and returns it as stored. When
   * entry.entry_id is already stored, returns that entry instead (idempotent append).
   */
  async append(entry: LedgerAppend): Promise<LedgerEntryRecord> {
    const parsed = AppendSchema.safeParse(entry);
    if (!parsed.success) throw new AppError('BAD_USER_INPUT', `invalid ledger entry: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
    const input = parsed.data;
    const timestamp = input.timestamp ?? this.now();
    if (Number.isNaN(timestamp.getTime())) throw new AppError('BAD_USER_INPUT', 'invalid ledger entry: timestamp');
    const prepared = {
      entry_id: input.entry_id ?? randomUUID(),
      plan_id: input.plan_id,
      tenant_id: input.tenant_id,
      account_id: input.account_id,
      event_type: input.event_type,
      timestamp: new Date(timestamp.getTime()),
      actor: input.actor,
      data: toStorableJson(input.data, 'data') as Record<string, unknown>,
    };
    const key = `${prepared.tenant_id}\u0000${prepared.plan_id}`;
    return withStoreErrors(this.logger, 'ledger.append', () =>
      this.serialized(key, () => this.appendWithRetry(prepared, input.entry_id !== undefined)),
    );
  }

  private async appendWithRetry(
    entry: Omit<LedgerEntryRecord, 'seq' | 'prev_hash' | 'hash' | 'day'>,
    idGiven: boolean,
  ): Promise<LedgerEntryRecord> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      if (idGiven) {
        const existing = await this.findExisting(entry);
        if (existing) return existing;
      }
      const last = await this.entries.findOne(
        { tenant_id: entry.tenant_id, plan_id: entry.plan_id },
        { sort: { seq: -1 }, projection: { seq: 1, hash: 1 } },
      );
      const seq = typeof last?.seq === 'number' ? last.seq + 1 : 1;
      const prev_hash = typeof last?.hash === 'string' ? last.hash : null;
      const record: LedgerEntryRecord = { ...entry, seq, prev_hash, day: utcDay(entry.timestamp), hash: '' };
      record.hash = hashLedgerEntry(record);
      const { entry_id, ...fields } = record;
      try {
        await this.entries.insertOne({ _id: entry_id, ...fields });
        return record;
      } catch (e) {
        if (!isDuplicateKeyError(e)) throw e;
        // Either another writer took this seq (retry) or the entry_id exists. FerretDB does
        // not say which index refused the insert, so look.
        if (idGiven) {
          const existing = await this.findExisting(entry);
          if (existing) return existing;
        }
        const seqTaken = await this.entries.countDocuments({ tenant_id: entry.tenant_id, plan_id: entry.plan_id, seq }, { limit: 1 });
        if (seqTaken === 0) throw new AppError('CONFLICT', `ledger entry id ${entry_id} is already in use`);
        await sleep(Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt));
      }
    }
    throw new AppError('CONFLICT', `ledger append for plan ${entry.plan_id} kept losing to concurrent appends; retry`);
  }

  /** The stored entry with this id in this tenant; CONFLICT when it belongs to another plan. */
  private async findExisting(entry: { entry_id: string; tenant_id: string; plan_id: string }): Promise<LedgerEntryRecord | null> {
    const doc = await this.entries.findOne({ tenant_id: entry.tenant_id, _id: entry.entry_id });
    if (!doc) return null;
    const stored = this.toRecord(doc);
    if (stored.plan_id !== entry.plan_id) {
      throw new AppError('CONFLICT', `ledger entry id ${entry.entry_id} is already used by another plan`);
    }
    return stored;
  }

  private serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.appendQueues.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.appendQueues.set(key, tail);
    void tail.then(() => {
      if (this.appendQueues.get(key) === tail) this.appendQueues.delete(key);
    });
    return run;
  }

  /** One entry by id, or null (also for another tenant's entry). */
  async getEntry(tenantId: string, entryId: string): Promise<LedgerEntryRecord | null> {
    return withStoreErrors(this.logger, 'ledger.getEntry', async () => {
      const doc = await this.entries.findOne({ tenant_id: tenantId, _id: entryId });
      return doc ? this.toRecord(doc) : null;
    });
  }

  /** One plan's story, oldest first. */
  async listByPlan(tenantId: string, planId: string, page: PageArgs = {}): Promise<Page<LedgerEntryRecord>> {
    return this.listForTenant(tenantId, { planId }, page);
  }

  /**
   * The first page (oldest first) of several plans' ledgers in one query, by plan id (every
   * requested id is present): a DataLoader's batch. Since a chain's seq runs 1..n, its first
   * `first` entries are exactly seq <= first (one more tells whether more follow).
   */
  async listByPlans(
    tenantId: string,
    planIds: readonly string[],
    first?: number | null,
  ): Promise<Map<string, Page<LedgerEntryRecord>>> {
    const size = clampPageSize(first);
    return withStoreErrors(this.logger, 'ledger.listByPlans', async () => {
      const ids = [...new Set(planIds)];
      const docs = ids.length === 0
        ? []
        : await this.entries
            .find({ tenant_id: tenantId, plan_id: { $in: ids }, seq: { $lte: size + 1 } })
            .sort({ plan_id: 1, seq: 1 })
            .toArray();
      const byPlan = new Map<string, LedgerEntryRecord[]>();
      for (const doc of docs) {
        const record = this.toRecord(doc);
        const list = byPlan.get(record.plan_id) ?? [];
        list.push(record);
        byPlan.set(record.plan_id, list);
      }
      return new Map(planIds.map((id) => [id, toPage(byPlan.get(id) ?? [], size, seqPosition)]));
    });
  }

  /** The tenant's ledger: newest first, or a plan's story oldest first when filter.planId is set. */
  async listForTenant(tenantId: string, filter: LedgerFilter = {}, page: PageArgs = {}): Promise<Page<LedgerEntryRecord>> {
    const size = clampPageSize(page.first);
    const base = ledgerMatch(tenantId, filter);
    if (filter.planId) {
      const after = page.after ? decodeCursor(page.after, SeqCursorSchema) : null;
      const query: Filter<LedgerDocument> = after ? { ...base, seq: { $gt: after.s } } : base;
      return withStoreErrors(this.logger, 'ledger.list', async () => {
        const docs = await this.entries.find(query).sort({ seq: 1 }).limit(size + 1).toArray();
        return toPage(docs.map((d) => this.toRecord(d)), size, seqPosition);
      });
    }
    const after = page.after ? decodeCursor(page.after, FeedCursorSchema) : null;
    const query: Filter<LedgerDocument> = after
      ? {
          $and: [
            base,
            { $or: [{ timestamp: { $lt: new Date(after.t) } }, { timestamp: new Date(after.t), _id: { $lt: after.id } }] },
          ],
        }
      : base;
    return withStoreErrors(this.logger, 'ledger.list', async () => {
      const docs = await this.entries.find(query).sort({ timestamp: -1, _id: -1 }).limit(size + 1).toArray();
      return toPage(docs.map((d) => this.toRecord(d)), size, (e) => ({ k: 'feed', t: e.timestamp.getTime(), id: e.entry_id }));
    });
  }

  /**
   * Entry counts per event type per UTC day, computed by the database. Uses only $match,
   * $group/$sum and $sort on plain fields (the stored `day`), which FerretDB runs too.
   */
  async stats(tenantId: string, filter: LedgerFilter = {}): Promise<LedgerEventCount[]> {
    return withStoreErrors(this.logger, 'ledger.stats', async () => {
      const rows = await this.entries
        .aggregate<{ _id: { event_type: unknown; day: unknown }; count: unknown }>([
          { $match: ledgerMatch(tenantId, filter) },
          { $group: { _id: { event_type: '$event_type', day: '$day' }, count: { $sum: 1 } } },
          { $sort: { '_id.day': 1, '_id.event_type': 1 } },
        ])
        .toArray();
      return rows.map((row) => {
        const parsed = StatsRowSchema.safeParse({ event_type: row._id.event_type, day: row._id.day, count: Number(row.count) });
        if (!parsed.success) {
          this.logger.error({ row, issues: parsed.error.issues }, 'ledger stats row is invalid');
          throw new AppError('INTERNAL_SERVER_ERROR', 'stored ledger entries are invalid');
        }
        return parsed.data;
      });
    });
  }

  /**
   * Walks a plan's chain: seq must run 1..n without a gap, each prev_hash must be the previous
   * entry's hash and each hash must match the entry's recomputed one. `expectedEntries`, when
   * the caller knows how many events the plan has, also catches entries cut off the end.
   */
  async verify(tenantId: string, planId: string, options: { expectedEntries?: number } = {}): Promise<LedgerVerification> {
    return withStoreErrors(this.logger, 'ledger.verify', async () => {
      const docs = await this.entries.find({ tenant_id: tenantId, plan_id: planId }).sort({ seq: 1 }).toArray();
      let expectedSeq = 1;
      let prevHash: string | null = null;
      let brokenAt: number | null = null;
      for (const doc of docs) {
        const parsed = LedgerEntryRecordSchema.safeParse({ ...doc, entry_id: doc._id });
        if (!parsed.success) {
          brokenAt = expectedSeq; // unreadable: the chain cannot be shown to hold from here
          break;
        }
        const entry = parsed.data;
        if (entry.seq !== expectedSeq) {
          brokenAt = expectedSeq; // the first missing seq (a deleted or renumbered entry)
          break;
        }
        if (entry.prev_hash !== prevHash || entry.day !== utcDay(entry.timestamp) || hashLedgerEntry(entry) !== entry.hash) {
          brokenAt = entry.seq;
          break;
        }
        prevHash = entry.hash;
        expectedSeq += 1;
      }
      if (brokenAt === null && options.expectedEntries !== undefined && docs.length < options.expectedEntries) {
        brokenAt = docs.length + 1;
      }
      return { plan_id: planId, valid: brokenAt === null, entries: docs.length, broken_at_seq: brokenAt };
    });
  }

  private toRecord(doc: LedgerDocument): LedgerEntryRecord {
    const parsed = LedgerEntryRecordSchema.safeParse({ ...doc, entry_id: doc._id });
    if (parsed.success) return parsed.data;
    this.logger.error({ entry_id: doc._id, issues: parsed.error.issues }, 'stored ledger entry is invalid');
    throw new AppError('INTERNAL_SERVER_ERROR', `stored ledger entry ${doc._id} is invalid`);
  }
}

const StatsRowSchema = z.object({
  event_type: z.enum(LEDGER_EVENT_TYPES),
  day: z.string(),
  count: z.number().int().min(0),
});

const seqPosition = (e: LedgerEntryRecord) => ({ k: 'seq', s: e.seq });

/** The tenant-first filter every ledger read starts from. */
function ledgerMatch(tenantId: string, filter: LedgerFilter): Filter<LedgerDocument> {
  const match: Filter<LedgerDocument> = { tenant_id: tenantId };
  if (filter.planId) match.plan_id = filter.planId;
  if (filter.accountId) match.account_id = filter.accountId;
  if (filter.eventTypes && filter.eventTypes.length > 0) match.event_type = { $in: [...filter.eventTypes] };
  if (filter.since || filter.until) {
    match.timestamp = {
      ...(filter.since ? { $gte: filter.since } : {}),
      ...(filter.until ? { $lt: filter.until } : {}),
    };
  }
  return match;
}
