import type { Collection, Db, Filter } from 'mongodb';
import { LRUCache } from 'lru-cache';
import { v5 as uuidv5 } from 'uuid';
import { z } from 'zod';
import { LEDGER_EVENT_TYPES, type LedgerEventType } from '../domain/enums.js';
import { AppError } from '../domain/errors.js';
import { LedgerEntryRecordSchema, type LedgerAppend, type LedgerEntryRecord } from '../domain/ledger.js';
import type { Page, PageArgs } from '../domain/page.js';
import {
  SeqCursorSchema,
  TimeIdCursorSchema,
  afterTimeId,
  clampPageSize,
  decodeCursor,
  toPage,
} from './cursor.js';
import { PLAN_LEDGER_COLLECTION } from './indexes.js';
import { InsertBatcher } from './InsertBatcher.js';
import { insertEach } from './insertEach.js';
import type { Outcome } from './outcome.js';
import { toStorableJson } from '../domain/storableJson.js';
import { hashLedgerEntry, utcDay } from './ledgerHash.js';
import { consoleStoreLogger, isDuplicateKeyError, withStoreErrors, type StoreLogger } from './mongoErrors.js';
import { KeyedLock } from './keyedLock.js';

// The append-only, hash-chained ledger (collection plan_ledger): no update or delete path on
// purpose. An entry's _id is its position, ledgerEntryKey(tenant, plan, seq); every read is
// tenant-scoped. The design (positions, appends, verification): docs/store.md, "The ledger".

/** Fixed namespace of ledger position keys and PlanStore's event ids (UUID v5). */
const LEDGER_KEY_NAMESPACE = '1b7e0c52-4f0e-5d6a-9c38-2a1f6f1d9e47';

/** The _id of a plan's entry at `seq` (1-based); also the entry_id PlanStore gives its n-th event. */
export function ledgerEntryKey(tenantId: string, planId: string, seq: number): string {
  const name = `${tenantId}\n${planId}\n${seq}`;
  let key = recentKeys.get(name);
  if (key === undefined) {
    // UTF-8 bytes, not the string: uuid's own string conversion throws on a lone surrogate
    // (an id a client can send); for well-formed text the bytes, and so the keys, are the same.
    key = uuidv5(utf8.encode(name), LEDGER_KEY_NAMESPACE);
    // A write derives the same key several times (event id, seq check, _id): a SHA-1 each.
    recentKeys.set(name, key);
  }
  return key;
}
const RECENT_KEYS = 2048;
const utf8 = new TextEncoder();
const recentKeys = new LRUCache<string, string>({ max: RECENT_KEYS });

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
  /**
   * Told of every entry an append returns (written now or found stored): the verifiable log's
   * sealer learns of new entries this way, with no read (docs/store.md, "The verifiable log").
   */
  onAppended?: (entry: LedgerEntryRecord) => void;
}

export interface AppendOptions {
  /**
   * The seq this entry belongs at: PlanStore's event number n, with the event id
   * ledgerEntryKey(tenant, plan, n). The append is one insert at that position (and a read of
   * the entry before it unless prevHash is given); there is no search for the tail.
   */
  expectedSeq: number;
  /** The hash of the entry at expectedSeq - 1, when the caller keeps it (PlanStore's ledger_hash), saving its read. */
  prevHash?: string;
}

/** A plan's first entry to append: its id the key of seq 1, its timestamp given. */
export type FirstEntryAppend = LedgerAppend & { entry_id: string; timestamp: Date };

/** What appending a plan's first entry found: the entry (written now, or found stored) and the plan's copy kept with it. */
export interface FirstAppend {
  entry: LedgerEntryRecord;
  createdPlan: unknown;
  inserted: boolean;
}

/** An entry as stored: _id is its position key, entry_id a field. */
type LedgerDocument = { _id: string } & Record<string, unknown>;

/** An append, checked and normalized; the ledger fills in seq, hashes and day. */
type PreparedEntry = Omit<LedgerEntryRecord, 'seq' | 'prev_hash' | 'hash' | 'day'>;

/** An append: a stored entry's own fields (the ledger assigns the chain's), entry_id bounded, timestamp optional. */
const AppendSchema = LedgerEntryRecordSchema.pick({ plan_id: true, tenant_id: true, account_id: true, event_type: true, actor: true, data: true }).extend({
  entry_id: LedgerEntryRecordSchema.shape.entry_id.max(256),
  timestamp: z.date().optional(),
});

/** An append as stored, before its chain fields: its own timestamp object, its data made storable. */
const prepare = (input: z.infer<typeof AppendSchema>, timestamp: Date): PreparedEntry => ({
  ...input,
  timestamp: new Date(timestamp.getTime()),
  data: toStorableJson(input.data, 'data') as Record<string, unknown>,
});

const FeedCursorSchema = TimeIdCursorSchema('feed');

export class PlanLedger {
  private readonly entries: Collection<LedgerDocument>;
  /** Concurrent appends' inserts go to the store together (group commit). */
  private readonly inserts: InsertBatcher<LedgerDocument>;
  private readonly logger: StoreLogger;
  private readonly now: () => Date;
  /** Appends to one plan through this instance queue up, so they do not race each other. */
  private readonly appendQueues = new KeyedLock();
  private readonly onAppended: (entry: LedgerEntryRecord) => void;

  constructor(db: Db, options: PlanLedgerOptions = {}) {
    this.entries = db.collection<LedgerDocument>(PLAN_LEDGER_COLLECTION);
    this.inserts = new InsertBatcher(this.entries);
    this.logger = options.logger ?? consoleStoreLogger;
    this.now = options.now ?? (() => new Date());
    this.onAppended = options.onAppended ?? (() => undefined);
  }

  /**
   * Appends one entry at seq options.expectedSeq of its plan's chain (its entry_id must be the
   * key of that seq) and returns it as stored. When that position already holds this entry id,
   * returns the stored entry instead (idempotent append: a retry, or a racing writer). CONFLICT
   * when the position holds another entry; INTERNAL_SERVER_ERROR when the entry before it is
   * missing (the chain is shorter than the caller's count: the ledger lost entries).
   */
  async append(entry: LedgerAppend, options: AppendOptions): Promise<LedgerEntryRecord> {
    const parsed = AppendSchema.safeParse(entry);
    if (!parsed.success) throw new AppError('BAD_USER_INPUT', `invalid ledger entry: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
    const input = parsed.data;
    const timestamp = input.timestamp ?? this.now();
    if (Number.isNaN(timestamp.getTime())) throw new AppError('BAD_USER_INPUT', 'invalid ledger entry: timestamp');
    const seq = options.expectedSeq;
    if (!Number.isSafeInteger(seq) || seq < 1) throw new AppError('BAD_USER_INPUT', 'invalid ledger entry: expectedSeq must be a whole number from 1');
    if (input.entry_id !== ledgerEntryKey(input.tenant_id, input.plan_id, seq)) {
      throw new AppError('BAD_USER_INPUT', 'invalid ledger entry: its entry_id is not the key of its seq');
    }
    const prepared = prepare(input, timestamp);
    const key = `${prepared.tenant_id}\u0000${prepared.plan_id}`;
    return withStoreErrors(this.logger, 'ledger.append', () =>
      this.appendQueues.run(key, async () => {
        const record = await this.appendAt(prepared, seq, options.prevHash);
        this.onAppended(record);
        return record;
      }),
    );
  }

  /**
   * Appends a plan's first entry (seq 1, its id the key of seq 1) together with `createdPlan`,
   * a copy of the plan as created, kept in the store-only field created_plan (not hashed, never
   * returned with the entry). PlanStore writes this before the plan document, so the ledger
   * alone can restore a plan whose document was never written (see PlanStore.createPlan).
   * One insert, no read. When seq 1 is taken: `inserted: false` with the stored entry and its
   * copy if it is this entry id (a retry, a race), else CONFLICT.
   */
  async appendFirst(entry: FirstEntryAppend, createdPlan: Record<string, unknown>): Promise<FirstAppend> {
    const { record, copy } = this.firstRecord(entry, createdPlan);
    const key = `${record.tenant_id}\u0000${record.plan_id}`;
    return withStoreErrors(this.logger, 'ledger.appendFirst', () =>
      this.appendQueues.run(key, async () => {
        if (await this.tryInsert(record, { created_plan: copy })) {
          this.onAppended(record);
          return { entry: record, createdPlan: copy, inserted: true };
        }
        return this.foundFirst(record, await this.readAt(record.tenant_id, record.plan_id, 1));
      }),
    );
  }

  /**
   * appendFirst for many plans in one unordered insert (a proposal run's chunk): one result per
   * append, in order, each exactly what appendFirst would answer for it (an invalid append or a
   * CONFLICT is that append's error, not the call's); the entries found taken are read in one
   * query per tenant. Throws only when the insert failed as a whole (no entry's outcome known:
   * every append may be tried again). The per-plan queue of append is not taken: the insert
   * alone decides who holds seq 1, as it does for appendFirst.
   */
  async appendFirstMany(appends: readonly { entry: FirstEntryAppend; createdPlan: Record<string, unknown> }[]): Promise<Outcome<FirstAppend>[]> {
    const built = appends.map((a): Outcome<{ record: LedgerEntryRecord; copy: unknown }> => {
      try {
        return { ok: true, value: this.firstRecord(a.entry, a.createdPlan) };
      } catch (error) {
        return { ok: false, error };
      }
    });
    const valid = built.flatMap((b) => (b.ok ? [b.value] : []));
    return withStoreErrors(this.logger, 'ledger.appendFirstMany', async () => {
      const inserted = await insertEach(
        this.entries,
        valid.map(({ record, copy }) => ({ _id: ledgerEntryKey(record.tenant_id, record.plan_id, 1), ...record, created_plan: copy })),
      );
      const taken = await this.readFirsts(valid.filter((_, i) => { const o = inserted[i]!; return !o.ok && o.duplicate; }).map((v) => v.record));
      let next = 0;
      return built.map((b): Outcome<FirstAppend> => {
        if (!b.ok) return b;
        const { record, copy } = b.value;
        const outcome = inserted[next++]!;
        if (outcome.ok) {
          this.onAppended(record);
          return { ok: true, value: { entry: record, createdPlan: copy, inserted: true } };
        }
        if (!outcome.duplicate) return { ok: false, error: outcome.error };
        try {
          return { ok: true, value: this.foundFirst(record, taken.get(ledgerEntryKey(record.tenant_id, record.plan_id, 1)) ?? null) };
        } catch (error) {
          return { ok: false, error };
        }
      });
    });
  }

  /** A first entry, checked and built with its hash, and the plan's copy made storable. */
  private firstRecord(entry: FirstEntryAppend, createdPlan: Record<string, unknown>): { record: LedgerEntryRecord; copy: unknown } {
    const parsed = AppendSchema.safeParse(entry);
    if (!parsed.success) throw new AppError('BAD_USER_INPUT', `invalid ledger entry: ${parsed.error.issues[0]?.message ?? 'unknown'}`);
    const input = parsed.data;
    if (input.entry_id !== ledgerEntryKey(input.tenant_id, input.plan_id, 1)) {
      throw new AppError('BAD_USER_INPUT', 'invalid ledger entry: a first entry carries the key of seq 1');
    }
    return { record: this.build(prepare(input, entry.timestamp), 1, null), copy: toStorableJson(createdPlan, 'created_plan') };
  }

  /** Seq 1 was found taken: this very entry (a retry, a race) with its copy, else CONFLICT. */
  private foundFirst(record: LedgerEntryRecord, stored: LedgerDocument | null): FirstAppend {
    if (stored?.entry_id !== record.entry_id) throw new AppError('CONFLICT', `plan id ${record.plan_id} is already in use`);
    const found = this.toRecord(stored);
    this.onAppended(found);
    return { entry: found, createdPlan: stored.created_plan ?? null, inserted: false };
  }

  /** The stored first entries of these records' plans, by _id: one query per tenant. */
  private async readFirsts(records: readonly LedgerEntryRecord[]): Promise<Map<string, LedgerDocument>> {
    const byTenant = new Map<string, string[]>();
    for (const r of records) byTenant.set(r.tenant_id, [...(byTenant.get(r.tenant_id) ?? []), ledgerEntryKey(r.tenant_id, r.plan_id, 1)]);
    const found = new Map<string, LedgerDocument>();
    for (const [tenantId, ids] of byTenant) {
      for (const doc of await this.entries.find({ tenant_id: tenantId, _id: { $in: ids } }).toArray()) found.set(doc._id, doc);
    }
    return found;
  }

  /** A plan's first entry and the copy of the plan kept with it (null when there is none). */
  async createdCopy(tenantId: string, planId: string): Promise<{ entry: LedgerEntryRecord; createdPlan: unknown } | null> {
    return withStoreErrors(this.logger, 'ledger.createdCopy', async () => {
      const doc = await this.readAt(tenantId, planId, 1);
      if (!doc || doc.created_plan === undefined || doc.created_plan === null) return null;
      return { entry: this.toRecord(doc), createdPlan: doc.created_plan };
    });
  }

  /**
   * Plans of any tenant with a PLAN_CREATED entry at or after `since` that carries a copy of
   * the plan: the repair sweep's candidates for plans whose document was never written. Not
   * tenant-scoped (each repair then is); a scan on FerretDB, run at start only.
   */
  async findCreatedSince(since: Date): Promise<{ tenant_id: string; plan_id: string }[]> {
    return withStoreErrors(this.logger, 'ledger.findCreated', async () => {
      const docs = await this.entries
        .find({ event_type: 'PLAN_CREATED', seq: 1, timestamp: { $gte: since }, created_plan: { $exists: true } }, { projection: { _id: 0, tenant_id: 1, plan_id: 1 } })
        .toArray();
      return docs
        .filter((d) => typeof d.tenant_id === 'string' && typeof d.plan_id === 'string')
        .map((d) => ({ tenant_id: d.tenant_id as string, plan_id: d.plan_id as string }));
    });
  }

  /** The append of an entry whose id is the key of seq n (see append). */
  private async appendAt(entry: PreparedEntry, n: number, knownPrevHash?: string): Promise<LedgerEntryRecord> {
    const { tenant_id, plan_id } = entry;
    // The insert itself tells whether seq n is free (a unique-index check, cheap on every
    // store); only a taken seq (a retry, a repair, another writer) costs a read of it. The
    // previous entry's hash is read unless the caller keeps it.
    let prevHash: string | null = null;
    if (n > 1) {
      const prev = knownPrevHash === undefined ? await this.readAt(tenant_id, plan_id, n - 1) : { hash: knownPrevHash };
      if (typeof prev?.hash !== 'string') {
        // Already stored (a retry after the entry before it was lost) is still this entry.
        const here = await this.readAt(tenant_id, plan_id, n);
        if (here?.entry_id === entry.entry_id) return this.toRecord(here);
        this.logger.error({ tenant_id, plan_id, seq: n }, 'ledger append: the entry before this seq is missing');
        throw new AppError('INTERNAL_SERVER_ERROR', `the ledger of plan ${plan_id} has no entry at seq ${n - 1}`);
      }
      prevHash = prev.hash;
    }
    const record = this.build(entry, n, prevHash);
    if (await this.tryInsert(record)) return record;
    const here = await this.readAt(tenant_id, plan_id, n);
    if (here?.entry_id === entry.entry_id) return this.toRecord(here);
    throw new AppError('CONFLICT', `seq ${n} of plan ${plan_id}'s ledger holds another entry`);
  }

  private build(entry: PreparedEntry, seq: number, prevHash: string | null): LedgerEntryRecord {
    const record: LedgerEntryRecord = {
      ...entry,
      seq,
      prev_hash: prevHash,
      day: utcDay(entry.timestamp),
      hash: '',
    };
    record.hash = hashLedgerEntry(record);
    return record;
  }

  /** Inserts the entry at its position; false on a duplicate key (seq or entry_id taken). */
  private async tryInsert(record: LedgerEntryRecord, storeOnly: Record<string, unknown> = {}): Promise<boolean> {
    try {
      await this.inserts.insert({ _id: ledgerEntryKey(record.tenant_id, record.plan_id, record.seq), ...record, ...storeOnly });
      return true;
    } catch (e) {
      if (isDuplicateKeyError(e)) return false;
      throw e;
    }
  }

  /** The entry at a plan's seq by its _id (null when absent, or not that plan's). */
  private async readAt(tenantId: string, planId: string, seq: number): Promise<LedgerDocument | null> {
    const _id = ledgerEntryKey(tenantId, planId, seq);
    const doc = await this.entries.findOne({ tenant_id: tenantId, _id });
    return doc && doc.tenant_id === tenantId && doc.plan_id === planId ? doc : null;
  }

  /**
   * Entries by entry id within the tenant, aligned with entryIds (null where absent or another
   * tenant's): a DataLoader's batch. An entry's id is its position key (see append), so this is
   * one read by _id.
   */
  async getByIds(tenantId: string, entryIds: readonly string[]): Promise<(LedgerEntryRecord | null)[]> {
    return withStoreErrors(this.logger, 'ledger.getByIds', async () => {
      const ids = [...new Set(entryIds)];
      const docs = ids.length === 0 ? [] : await this.entries.find({ tenant_id: tenantId, _id: { $in: ids } }).toArray();
      const byId = new Map(docs.map((doc) => this.toRecord(doc)).map((record) => [record.entry_id, record]));
      return entryIds.map((id) => byId.get(id) ?? null);
    });
  }

  /** One plan's story, oldest first. */
  async listByPlan(tenantId: string, planId: string, page: PageArgs = {}): Promise<Page<LedgerEntryRecord>> {
    return this.listForTenant(tenantId, { planId }, page);
  }

  /**
   * The first page (oldest first) of several plans' ledgers, by plan id (every requested id
   * is present): a DataLoader's batch. Since a chain's seq runs 1..n, its first `first`
   * entries are exactly seq <= first (one more tells whether more follow): one query.
   */
  async listByPlans(
    tenantId: string,
    planIds: readonly string[],
    first?: number | null,
  ): Promise<Map<string, Page<LedgerEntryRecord>>> {
    const size = clampPageSize(first);
    return withStoreErrors(this.logger, 'ledger.listByPlans', async () => {
      const ids = [...new Set(planIds)];
      const byPlan = new Map<string, LedgerEntryRecord[]>();
      if (ids.length > 0) {
        const docs = await this.entries
          .find({ tenant_id: tenantId, plan_id: { $in: ids }, seq: { $lte: size + 1 } })
          .sort({ plan_id: 1, seq: 1 })
          .toArray();
        for (const doc of docs) {
          const record = this.toRecord(doc);
          const list = byPlan.get(record.plan_id) ?? [];
          list.push(record);
          byPlan.set(record.plan_id, list);
        }
      }
      return new Map(planIds.map((id) => [id, toPage(byPlan.get(id) ?? [], size, seqPosition)]));
    });
  }

  /**
   * The tenant's ledger: newest first, or a plan's story oldest first when filter.planId is set.
   */
  async listForTenant(tenantId: string, filter: LedgerFilter = {}, page: PageArgs = {}): Promise<Page<LedgerEntryRecord>> {
    const size = clampPageSize(page.first);
    const base = ledgerMatch(tenantId, filter);
    if (filter.planId) {
      const after = page.after ? decodeCursor(page.after, SeqCursorSchema) : null;
      return withStoreErrors(this.logger, 'ledger.list', async () => {
        const query: Filter<LedgerDocument> = after ? { ...base, seq: { $gt: after.s } } : base;
        const docs = await this.entries.find(query).sort({ seq: 1 }).limit(size + 1).toArray();
        return toPage(docs.map((d) => this.toRecord(d)), size, seqPosition);
      });
    }
    const after = page.after ? decodeCursor(page.after, FeedCursorSchema) : null;
    const query = afterTimeId(base, 'timestamp', after);
    return withStoreErrors(this.logger, 'ledger.list', async () => {
      const docs = await this.entries.find(query).sort({ timestamp: -1, _id: -1 }).limit(size + 1).toArray();
      // The keyset is (timestamp, _id): the cursor carries the _id (the position key).
      const rows = docs.map((d) => ({ _id: d._id, record: this.toRecord(d) }));
      const page = toPage(rows, size, (r) => ({ k: 'feed', t: r.record.timestamp.getTime(), id: r._id }));
      return { ...page, items: page.items.map((r) => r.record) };
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
        const parsed = LedgerEntryRecordSchema.safeParse(recordFields(doc));
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
      const entries = docs.length;
      if (brokenAt === null && options.expectedEntries !== undefined && entries !== options.expectedEntries) {
        // Fewer: entries cut off the end. More: entries the plan never issued.
        brokenAt = Math.min(entries, options.expectedEntries) + 1;
      }
      return { plan_id: planId, valid: brokenAt === null, entries, broken_at_seq: brokenAt };
    });
  }

  private toRecord(doc: LedgerDocument): LedgerEntryRecord {
    const parsed = LedgerEntryRecordSchema.safeParse(recordFields(doc));
    if (parsed.success) return parsed.data;
    const entryId = typeof doc.entry_id === 'string' ? doc.entry_id : doc._id;
    this.logger.error({ entry_id: entryId, issues: parsed.error.issues }, 'stored ledger entry is invalid');
    throw new AppError('INTERNAL_SERVER_ERROR', `stored ledger entry ${entryId} is invalid`);
  }
}

/** A stored document as record input: entry_id is a field (documents without one used _id). */
const recordFields = (doc: LedgerDocument): Record<string, unknown> => ({ ...doc, entry_id: doc.entry_id ?? doc._id });

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
