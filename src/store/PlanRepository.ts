import type { Collection, Db, Document, Filter } from 'mongodb';
import { z } from 'zod';
import { LEDGER_EVENT_TYPES, PLAN_STATUSES, type PlanStatus, type PlanType } from '../domain/enums.js';
import { AppError } from '../domain/errors.js';
import { PlanHeadSchema, RevenuePlanV1Schema, type PlanHead, type RevenuePlanV1 } from '../domain/plan.js';
import { ProposalMetaSchema, type ProposalMeta } from '../domain/proposalMeta.js';
import { canTransition, transitionFor } from '../domain/lifecycleMatrix.js';
import { OPEN_ASSIGNEE_FIELDS } from '../domain/stepWorkload.js';
import { newTallyMark, noteMarked, TALLY_MARK } from './tallyMark.js';
import type { Page, PageArgs } from '../domain/page.js';
import { TimeIdCursorSchema, afterTimeId, clampPageSize, decodeCursor, toPage } from './cursor.js';
import { PLANS_COLLECTION } from './indexes.js';
import { InsertBatcher } from './InsertBatcher.js';
import { insertEach } from './insertEach.js';
import type { Outcome } from './outcome.js';
import { toStorableJson } from '../domain/storableJson.js';
import { consoleStoreLogger, isDuplicateKeyError, withStoreErrors, type StoreLogger } from './mongoErrors.js';
import { KeyedLock } from './keyedLock.js';

// Plan documents (collection plans, _id = plan_id), always read and written within one tenant:
// every filter starts {tenant_id, _id}, and a conditional write carries its conditions in the
// filter of one findOneAndUpdate. Store-only fields (active_slot, event_count, pending_event,
// proposal) and why: docs/store.md, "Plan documents".

export const PendingEventSchema = z.object({
  entry_id: z.string().min(1),
  event_type: z.enum(LEDGER_EVENT_TYPES),
  actor: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  timestamp: z.date(),
});
/** A ledger event written into its plan document, waiting to be appended to the ledger. */
export type PendingEvent = z.infer<typeof PendingEventSchema>;

const StoreFieldsSchema = z.object({
  _id: z.string().min(1),
  active_slot: z.string().min(1),
  event_count: z.number().int().min(0),
  pending_event: PendingEventSchema.optional(),
  proposal: ProposalMetaSchema.optional(),
  ledger_hash: z.string().min(1).optional(),
});

/** A plan document with its store-only fields (for PlanStore). */
export interface StoredPlan {
  plan: RevenuePlanV1;
  event_count: number;
  pending_event: PendingEvent | null;
  proposal: ProposalMeta | null;
  /**
   * The hash of the plan's last appended ledger entry (seq event_count, or event_count - 1 while
   * an event is pending): the next append's prev_hash, without reading that entry. Null in
   * documents written before the field existed.
   */
  ledger_hash: string | null;
}

/** Fields a status change may set besides plan_status and updated_at. */
export const TransitionFieldsSchema = RevenuePlanV1Schema.pick({
  approved_at: true,
  approved_by: true,
  completed_at: true,
  aborted_at: true,
  expired_at: true,
  completion_reason: true,
})
  .partial()
  .strict();
export type TransitionFields = z.infer<typeof TransitionFieldsSchema>;

export interface PlanListFilter {
  accountId?: string | null;
  statuses?: readonly PlanStatus[] | null;
  planType?: PlanType | null;
  /** Only plans with a step overdue at this instant (next_due_at before it: docs/steps.md). */
  overdueAt?: Date | null;
  /** Only plans with an open step assigned to this subject (one of the open_assignee_N fields). */
  assignee?: string | null;
}

/** A plan document change for compareAndSet: fields to set and fields to remove. */
export interface PlanDocumentChange {
  set: Record<string, unknown>;
  unset?: readonly string[];
}

type PlanDocument = { _id: string } & Record<string, unknown>;

/** How a list reads its plans: the find options it asks the store with (a projection, or none: whole documents), and the parse of each. */
interface PlanRead<T> {
  options: { projection?: Document };
  parse: (doc: PlanDocument) => T;
}

/** A head's fields (PlanHead: every plan field but steps), and next_due_at for the overdue list's cursor. */
const HEAD_PROJECTION: Document = Object.fromEntries([
  ...Object.keys(PlanHeadSchema.shape).map((field) => [field === 'plan_id' ? '_id' : field, 1]),
  ['next_due_at', 1],
]);

const PlanCursorSchema = TimeIdCursorSchema('plans');
const OverdueCursorSchema = TimeIdCursorSchema('overdue');

export interface PlanRepositoryOptions {
  logger?: StoreLogger;
}

/** The active slot a plan holds in a status: only ACTIVE plans share one per account and type. */
export const activeSlotFor = (plan: Pick<RevenuePlanV1, 'plan_id' | 'account_id' | 'plan_type'>, status: PlanStatus): string =>
  status === 'ACTIVE' ? `${plan.account_id}|${plan.plan_type}` : plan.plan_id;

/** INVALID_TRANSITION unless the lifecycle allows from -> to. */
export function assertTransition(from: PlanStatus, to: PlanStatus): void {
  if (!PLAN_STATUSES.includes(from) || !PLAN_STATUSES.includes(to) || !canTransition(from, to)) {
    throw new AppError('INVALID_TRANSITION', `a plan cannot go from ${String(from)} to ${String(to)}`, { from, to });
  }
}

/**
 * The plan fields a status change sets: status, updated_at and the transition's timestamps (the
 * lifecycle's `sets`, stamped with `now` unless the caller gave them). The active slot moves
 * with the status (PlanStore.change).
 */
export function statusChange(plan: RevenuePlanV1, to: PlanStatus, fields: TransitionFields, now: Date): Partial<RevenuePlanV1> {
  const parsed = TransitionFieldsSchema.safeParse(fields);
  if (!parsed.success) throw new AppError('BAD_USER_INPUT', `invalid transition fields: ${parsed.error.issues[0]?.message ?? ''}`);
  const set: Record<string, unknown> = { plan_status: to, updated_at: now };
  for (const field of transitionFor(plan.plan_status, to)?.sets ?? []) set[field] = now;
  for (const [key, value] of Object.entries(parsed.data)) if (value !== undefined) set[key] = value;
  return set as Partial<RevenuePlanV1>;
}

/** An ACTIVE plan already holds the slot: the lifecycle turns this into CONFLICT_ACTIVE_PLAN. */
export const activePlanExists = (planId: string) =>
  new AppError('CONFLICT', `another plan is already ACTIVE for this account and plan type`, { reason: 'ACTIVE_PLAN_EXISTS', plan_id: planId });

/**
 * Per-plan locks of this process, shared by every repository on the same database (and by the
 * playbook heads, PlanTypeConfigStore): two writes of one plan from this process queue here
 * instead of racing to a conditional write only one can win, which saves the loser's round
 * trips. Atomicity itself is the store's (MongoDB's, and the embedded store's with our patch:
 * docs/store.md, "What the store must guarantee").
 */
const planLocks = new KeyedLock();

/** Runs fn under the process's lock for `key` (a plan's, or a playbook head's: same database-qualified key space). */
export const withPlanLock = <T>(key: string, fn: () => Promise<T>): Promise<T> => planLocks.run(key, fn);

/** A new plan's document with its store-only fields. The plan is one its caller has validated. */
function storedDocument(stored: StoredPlan): PlanDocument {
  const { plan } = stored;
  return {
    ...planFields(plan),
    [TALLY_MARK]: newTallyMark(),
    active_slot: activeSlotFor(plan, plan.plan_status),
    event_count: stored.event_count,
    ...(stored.pending_event ? { pending_event: toStorableJson(stored.pending_event, 'pending_event') } : {}),
    ...(stored.proposal ? { proposal: toStorableJson(stored.proposal, 'proposal') } : {}),
    ...(stored.ledger_hash ? { ledger_hash: stored.ledger_hash } : {}),
  };
}

export class PlanRepository {
  private readonly plans: Collection<PlanDocument>;
  /** Concurrent inserts of new plans go to the store together (group commit). */
  private readonly inserts: InsertBatcher<PlanDocument>;
  private readonly dbName: string;
  private readonly logger: StoreLogger;

  constructor(db: Db, options: PlanRepositoryOptions = {}) {
    this.plans = db.collection<PlanDocument>(PLANS_COLLECTION);
    this.inserts = new InsertBatcher(this.plans);
    this.dbName = db.databaseName;
    this.logger = options.logger ?? consoleStoreLogger;
  }

  /** Plans by id in one query, aligned with planIds (null where absent): a DataLoader's batch. */
  async getPlans(tenantId: string, planIds: readonly string[]): Promise<(RevenuePlanV1 | null)[]> {
    return withStoreErrors(this.logger, 'plans.getPlans', async () => {
      const docs = await this.findByIds([...new Set(planIds)], tenantId);
      const byId = new Map(docs.map((doc) => [doc._id, this.toStored(doc).plan]));
      return planIds.map((id) => byId.get(id) ?? null);
    });
  }

  /**
   * Plans newest updated first (ties by id), in keyset pages that hold still while plans are
   * added; with overdueAt alone (no assignee), most overdue first: earliest next_due_at, ties by id.
   */
  listPlans(tenantId: string, filter: PlanListFilter = {}, page: PageArgs = {}): Promise<Page<RevenuePlanV1>> {
    return this.list(tenantId, filter, page, { options: {}, parse: (d) => this.toStored(d).plan });
  }

  /**
   * listPlans without the plans' steps (PlanHead): the store decodes and sends only the other
   * fields, which on the embedded store is most of what a page costs (docs/store.md, "Plan lists").
   */
  listPlanHeads(tenantId: string, filter: PlanListFilter = {}, page: PageArgs = {}): Promise<Page<PlanHead>> {
    return this.list(tenantId, filter, page, { options: { projection: HEAD_PROJECTION }, parse: (d) => this.toHead(d) });
  }

  private async list<T extends PlanHead | RevenuePlanV1>(tenantId: string, filter: PlanListFilter, page: PageArgs, read: PlanRead<T>): Promise<Page<T>> {
    const size = clampPageSize(page.first);
    const base: Filter<PlanDocument> = { tenant_id: tenantId };
    if (filter.accountId) base.account_id = filter.accountId;
    if (filter.statuses && filter.statuses.length > 0) base.plan_status = { $in: [...filter.statuses] };
    if (filter.planType) base.plan_type = filter.planType;
    if (filter.overdueAt) base.next_due_at = { $lt: filter.overdueAt };
    if (filter.overdueAt && !filter.assignee) return this.listOverdue(base, size, page.after ?? undefined, read);
    const after = page.after ? decodeCursor(page.after, PlanCursorSchema) : null;
    // By assignee: one query per open_assignee_N field, each its index's ordered range, merged
    // (the top size + 1 of the union is within the top size + 1 of each). SQLite serves an $or of
    // them by walking the tenant's plans instead (docs/steps.md).
    const filters = filter.assignee ? OPEN_ASSIGNEE_FIELDS.map((field) => ({ ...base, [field]: filter.assignee })) : [base];
    return withStoreErrors(this.logger, 'plans.listPlans', async () => {
      const found = await Promise.all(
        filters.map((f) => this.plans.find(afterTimeId(f, 'updated_at', after), read.options).sort({ updated_at: -1, _id: -1 }).limit(size + 1).toArray()),
      );
      const docs = found.length === 1 ? found[0]! : newestFirstUnion(found.flat());
      return toPage(docs.map(read.parse), size, (p) => ({ k: 'plans', t: p.updated_at.getTime(), id: p.plan_id }));
    });
  }

  /**
   * The overdue list in its index's order (tenant_id, next_due_at, _id): the range is the order,
   * so the store reads only the page, however many plans are overdue (docs/steps.md).
   */
  private async listOverdue<T extends PlanHead | RevenuePlanV1>(base: Filter<PlanDocument>, size: number, afterCursor: string | undefined, read: PlanRead<T>): Promise<Page<T>> {
    const after = afterCursor ? decodeCursor(afterCursor, OverdueCursorSchema) : null;
    const at = after ? new Date(after.t) : null;
    const query: Filter<PlanDocument> =
      after && at ? { $and: [base, { next_due_at: { $gte: at } }, { $or: [{ next_due_at: { $gt: at } }, { next_due_at: at, _id: { $gt: after.id } }] }] } : base;
    return withStoreErrors(this.logger, 'plans.listOverdue', async () => {
      const docs = await this.plans.find(query, read.options).sort({ next_due_at: 1, _id: 1 }).limit(size + 1).toArray();
      // The cursor holds the stored next_due_at, the index's key (a head has no steps to derive it from).
      const dueAt = new Map(docs.map((d) => [d._id, d.next_due_at instanceof Date ? d.next_due_at.getTime() : 0]));
      return toPage(docs.map(read.parse), size, (p) => ({ k: 'overdue', t: dueAt.get(p.plan_id) ?? 0, id: p.plan_id }));
    });
  }

  /** Ids of the account's ACTIVE plans of this type (at most one while the active slot holds). */
  async findActivePlanIds(tenantId: string, accountId: string, planType: PlanType): Promise<string[]> {
    return withStoreErrors(this.logger, 'plans.findActivePlanIds', async () => {
      const docs = await this.plans
        .find(
          { tenant_id: tenantId, account_id: accountId, plan_type: planType, plan_status: 'ACTIVE' },
          { projection: { _id: 1 } },
        )
        .toArray();
      return docs.map((d) => d._id).sort();
    });
  }

  // ---- PlanStore's primitives (store-internal) ----

  /** The plan document with its store-only fields, or null (also for another tenant's plan). */
  async getStored(tenantId: string, planId: string): Promise<StoredPlan | null> {
    return withStoreErrors(this.logger, 'plans.get', async () => {
      const doc = await this.readById(tenantId, planId);
      return doc ? this.toStored(doc) : null;
    });
  }

  /**
   * Inserts a new plan document; false when its plan_id is already stored (in any tenant).
   * The plan is one its caller has validated (parsePlanInput, or a stored document's schema).
   */
  async insertStored(stored: StoredPlan): Promise<boolean> {
    const doc = storedDocument(stored);
    noteMarked(this.dbName, stored.plan.tenant_id);
    return withStoreErrors(this.logger, 'plans.insert', async () => {
      try {
        await this.inserts.insert(doc);
        return true;
      } catch (e) {
        // _id is the only unique key a new plan can clash on: its active slot is its own id.
        if (isDuplicateKeyError(e)) return false;
        throw e;
      }
    });
  }

  /**
   * insertStored for many plans in one unordered insert: per plan, true when inserted, false
   * when its plan_id is already stored, or the error of that plan's insert. Throws when the
   * insert failed as a whole (no plan's outcome known).
   */
  async insertStoredMany(stored: readonly StoredPlan[]): Promise<Outcome<boolean>[]> {
    const docs = stored.map(storedDocument);
    for (const tenantId of new Set(stored.map((s) => s.plan.tenant_id))) noteMarked(this.dbName, tenantId);
    return withStoreErrors(this.logger, 'plans.insertMany', async () =>
      (await insertEach(this.plans, docs)).map((o): Outcome<boolean> => (o.ok ? { ok: true, value: true } : o.duplicate ? { ok: true, value: false } : { ok: false, error: o.error })),
    );
  }

  /**
   * Applies `change` if the plan still has this status and event count and no pending event;
   * returns the document after the write, or null when it did not match.
   */
  async compareAndSet(
    tenantId: string,
    planId: string,
    expect: { status: PlanStatus; event_count: number },
    change: PlanDocumentChange,
  ): Promise<StoredPlan | null> {
    return withStoreErrors(this.logger, 'plans.compareAndSet', () =>
      this.locked(planId, () =>
        this.updateWhere(
          tenantId,
          planId,
          { plan_status: expect.status, event_count: expect.event_count, pending_event: { $exists: false } },
          change,
        ),
      ),
    );
  }

  /**
   * Removes the pending event if it is still this one, recording `hash` (its entry's) as the
   * plan's ledger_hash; false when it was already gone.
   */
  async clearPendingEvent(tenantId: string, planId: string, entryId: string, hash: string): Promise<boolean> {
    return withStoreErrors(this.logger, 'plans.clearPendingEvent', () =>
      this.locked(planId, async () => {
        const result = await this.plans.updateOne(
          { tenant_id: tenantId, _id: planId, 'pending_event.entry_id': entryId },
          { $unset: { pending_event: '' }, $set: { ledger_hash: hash } },
        );
        return result.modifiedCount === 1;
      }),
    );
  }

  /**
   * Which of these plan ids have a document (in any tenant): the start-up sweep's check for
   * plans a crash lost.
   */
  async existingIds(planIds: readonly string[]): Promise<Set<string>> {
    return withStoreErrors(this.logger, 'plans.existingIds', async () => {
      const found = new Set<string>();
      // In slices, so that no single $in query grows with the sweep's look-back.
      for (let i = 0; i < planIds.length; i += 1000) {
        for (const doc of await this.findByIds(planIds.slice(i, i + 1000), null, { _id: 1 })) found.add(doc._id);
      }
      return found;
    });
  }


  /**
   * Plans of any tenant whose pending event is older than `before`, oldest first: the repair
   * sweep's work list, the one read that is not tenant-scoped (each repair then is).
   */
  async findPendingOlderThan(before: Date, limit: number): Promise<{ tenant_id: string; plan_id: string }[]> {
    return withStoreErrors(this.logger, 'plans.findPending', async () => {
      const docs = await this.plans
        .find({ 'pending_event.timestamp': { $lt: before } }, { projection: { _id: 1, tenant_id: 1 } })
        .sort({ 'pending_event.timestamp': 1 })
        .limit(Math.max(1, limit))
        .toArray();
      return docs.filter((d) => typeof d.tenant_id === 'string').map((d) => ({ tenant_id: d.tenant_id as string, plan_id: d._id }));
    });
  }

  /**
   * Plans of any tenant in one of `statuses` whose expires_at is at or before `now`, soonest
   * expired first: the expiry sweep's work list (not tenant-scoped, like findPendingOlderThan;
   * each expiry then is).
   */
  async findExpiredIn(statuses: readonly PlanStatus[], now: Date, limit: number): Promise<{ tenant_id: string; plan_id: string }[]> {
    return withStoreErrors(this.logger, 'plans.findExpired', async () => {
      const docs = await this.plans
        .find({ plan_status: { $in: [...statuses] }, expires_at: { $lte: now } }, { projection: { _id: 1, tenant_id: 1 } })
        .sort({ expires_at: 1 })
        .limit(Math.max(1, limit))
        .toArray();
      return docs.filter((d) => typeof d.tenant_id === 'string').map((d) => ({ tenant_id: d.tenant_id as string, plan_id: d._id }));
    });
  }

  /** The documents with these ids, in one $in query (missing ones and, with a tenant, other tenants' left out). */
  private async findByIds(ids: readonly string[], tenantId: string | null, projection?: Document): Promise<PlanDocument[]> {
    if (ids.length === 0) return [];
    const inIds = { _id: { $in: [...ids] } };
    return this.plans.find(tenantId === null ? inIds : { tenant_id: tenantId, ...inIds }, projection ? { projection } : {}).toArray();
  }

  /** The plan document by _id within the tenant, null when absent or another tenant's. */
  private async readById(tenantId: string, planId: string): Promise<PlanDocument | null> {
    return this.plans.findOne({ tenant_id: tenantId, _id: planId });
  }

  /**
   * Writes `change` to the plan and returns the document after it, or null when it did not
   * match: `conditions` go into the filter, one conditional write.
   */
  private async updateWhere(
    tenantId: string,
    planId: string,
    conditions: Filter<PlanDocument>,
    change: PlanDocumentChange,
  ): Promise<StoredPlan | null> {
    // Every write moves the plan's share of the kept counts (PlanCounters), in this same write.
    const set = { ...(toStorableJson(change.set, 'plan') as Record<string, unknown>), [TALLY_MARK]: newTallyMark() };
    noteMarked(this.dbName, tenantId);
    const unset = change.unset && change.unset.length > 0 ? { $unset: Object.fromEntries(change.unset.map((f) => [f, '' as const])) } : {};
    const filter: Filter<PlanDocument> = { tenant_id: tenantId, _id: planId, ...conditions };
    try {
      const doc = await this.plans.findOneAndUpdate(filter, { $set: set, ...unset }, { returnDocument: 'after' });
      return doc && doc.tenant_id === tenantId ? this.toStored(doc) : null;
    } catch (e) {
      // The only unique key an update can clash on is the active slot.
      if (isDuplicateKeyError(e)) throw activePlanExists(planId);
      throw e;
    }
  }

  /** Keyed by the document (_id is unique in the collection), whatever tenant asks. */
  private locked<T>(planId: string, fn: () => Promise<T>): Promise<T> {
    return planLocks.run(`${this.dbName}\u0000${planId}`, fn);
  }

  /** A list's head of a stored document (HEAD_PROJECTION), validated as toStored validates a whole one. */
  private toHead(doc: PlanDocument): PlanHead {
    const head = PlanHeadSchema.safeParse({ ...doc, plan_id: doc._id });
    if (head.success) return head.data;
    return this.invalidStored(doc, head.error.issues);
  }

  /** Validates a stored document; a corrupted one is a clear INTERNAL_SERVER_ERROR, its cause logged. */
  private toStored(doc: PlanDocument): StoredPlan {
    const plan = RevenuePlanV1Schema.safeParse({ ...doc, plan_id: doc._id });
    const extras = StoreFieldsSchema.safeParse(doc);
    if (plan.success && extras.success) {
      return {
        plan: plan.data,
        event_count: extras.data.event_count,
        pending_event: extras.data.pending_event ?? null,
        proposal: extras.data.proposal ?? null,
        ledger_hash: extras.data.ledger_hash ?? null,
      };
    }
    return this.invalidStored(doc, [...(plan.success ? [] : plan.error.issues), ...(extras.success ? [] : extras.error.issues)]);
  }

  /** A corrupted stored document: its cause logged, a clear INTERNAL_SERVER_ERROR thrown. */
  private invalidStored(doc: PlanDocument, issues: readonly z.core.$ZodIssue[]): never {
    this.logger.error({ plan_id: doc._id, issues }, 'stored plan is invalid');
    throw new AppError('INTERNAL_SERVER_ERROR', `stored plan ${doc._id} is invalid`);
  }
}

/** Documents of several queries, each once, in the plans list's order (updated_at desc, _id desc). */
function newestFirstUnion(docs: PlanDocument[]): PlanDocument[] {
  const byId = new Map(docs.map((d) => [d._id, d]));
  const time = (d: PlanDocument) => (d.updated_at instanceof Date ? d.updated_at.getTime() : 0);
  return [...byId.values()].sort((a, b) => time(b) - time(a) || (a._id < b._id ? 1 : a._id > b._id ? -1 : 0));
}

/** A plan a caller hands in, validated: BAD_USER_INPUT naming the first problem. */
export function parsePlanInput(plan: unknown): RevenuePlanV1 {
  const parsed = RevenuePlanV1Schema.safeParse(plan);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError('BAD_USER_INPUT', `invalid plan: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unknown'}`);
  }
  return parsed.data;
}

/** The stored form of a plan's own fields: _id for plan_id, nothing undefined, JSON the store keeps. */
function planFields(plan: RevenuePlanV1): PlanDocument {
  const { plan_id, ...fields } = plan;
  return { _id: plan_id, ...(toStorableJson(fields, 'plan') as Record<string, unknown>) };
}
