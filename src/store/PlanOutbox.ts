import type { LedgerEventType, PlanStatus } from '../domain/enums.js';
import { AppError } from '../domain/errors.js';
import { RevenuePlanV1Schema } from '../domain/plan.js';
import { ProposalMetaSchema } from '../domain/proposalMeta.js';
import { toStorableJson } from '../domain/storableJson.js';
import type { StoreLogger } from './mongoErrors.js';
import { ledgerEntryKey, type PlanLedger } from './PlanLedger.js';
import type { PendingEvent, PlanRepository, StoredPlan } from './PlanRepository.js';
import { CreatedPlanCopySchema, expandCreatedPlan, readCreatedPlan } from './createdPlanCopy.js';

// The write protocol between a plan document and its ledger, from the commit point on: a
// change's pending event (commit, complete), the plan document a crash lost after its
// PLAN_CREATED entry (restore), and bringing a plan back to whole, one or many (repair, the
// sweeps, the repair list). The verbs, the protocol and its crash tables: docs/store.md,
// "Writing a plan and its events without transactions".

/**
 * The points of the protocol where a crash leaves a half-written plan. Production gives none;
 * a test throws there to simulate a crash (test/support/crashingPlanStore.ts).
 */
export interface CrashPoints {
  /** After a change is committed (the plan document with its pending event is written), before the ledger append. */
  afterPlanWrite?: (eventType: LedgerEventType, planId: string) => void | Promise<void>;
  /** After a ledger append: of a change, before its pending event is cleared; of a create, before the plan document is inserted. */
  afterLedgerAppend?: (planId: string) => void | Promise<void>;
}

export interface PlanOutboxDeps {
  plans: PlanRepository;
  ledger: PlanLedger;
  logger: StoreLogger;
  now: () => Date;
  crashPoints?: CrashPoints;
}

/** What a change of an existing plan writes to its document, and the event it records. */
export interface PlanDocumentWrite {
  /** The status the plan must still have (with the event count read and nothing pending). */
  expectStatus: PlanStatus;
  set: Record<string, unknown>;
  unset: readonly string[];
  event: Omit<PendingEvent, 'entry_id'>;
}

/** A plan's PLAN_CREATED entry and the copy of the plan kept with it, as PlanLedger returns them. */
export interface CreatedEntry {
  entry: { data: Record<string, unknown>; hash: string };
  createdPlan: unknown;
}

/**
 * The entry_id of a plan's n-th event (1-based): the same on every retry of that event, and
 * the ledger's key (the _id) of seq n of the plan's chain.
 */
export const planEventId = (tenantId: string, planId: string, eventNumber: number): string =>
  ledgerEntryKey(tenantId, planId, eventNumber);

interface Listed {
  tenant_id: string;
  plan_id: string;
  since: number;
}

/**
 * The repair list: plans this instance has committed a write of and not yet seen whole (a write
 * under way, or one that failed while the instance kept running). The periodic repair visits
 * them without a store-wide query.
 */
class RepairList {
  private readonly items = new Map<string, Listed>();

  add(tenantId: string, planId: string, since: number): void {
    this.items.set(RepairList.key(tenantId, planId), { tenant_id: tenantId, plan_id: planId, since });
  }

  remove(tenantId: string, planId: string): void {
    this.items.delete(RepairList.key(tenantId, planId));
  }

  /** Removes this very item, unless the plan was listed again meanwhile (a newer write of it). */
  removeItem(item: Listed): void {
    const key = RepairList.key(item.tenant_id, item.plan_id);
    if (this.items.get(key) === item) this.items.delete(key);
  }

  listedBy(time: number): Listed[] {
    return [...this.items.values()].filter((item) => item.since <= time);
  }

  static key(tenantId: string, planId: string): string {
    return `${tenantId}\u0000${planId}`;
  }
}

export class PlanOutbox {
  private readonly plans: PlanRepository;
  private readonly ledger: PlanLedger;
  private readonly logger: StoreLogger;
  private readonly now: () => Date;
  private readonly crashPoints: CrashPoints;
  private readonly repairList = new RepairList();

  constructor(deps: PlanOutboxDeps) {
    this.plans = deps.plans;
    this.ledger = deps.ledger;
    this.logger = deps.logger;
    this.now = deps.now;
    this.crashPoints = deps.crashPoints ?? {};
  }

  /**
   * Commits a change of `current` (a stored plan with nothing pending): one conditional write of
   * the document with the event as its pending event, guarded by status, event count and no
   * pending event. Then completes it. Returns the document after both, or null when the guards
   * did not hold (someone changed the plan since `current` was read): nothing was written.
   * A failure after the commit leaves the plan on the repair list.
   */
  async commitAndComplete(current: StoredPlan, write: PlanDocumentWrite): Promise<StoredPlan | null> {
    const { tenant_id: tenantId, plan_id: planId } = current.plan;
    const eventNumber = current.event_count + 1;
    const pending: PendingEvent = { entry_id: planEventId(tenantId, planId, eventNumber), ...write.event };
    const committed = await this.plans.compareAndSet(
      tenantId,
      planId,
      { status: write.expectStatus, event_count: current.event_count },
      {
        set: { ...write.set, event_count: eventNumber, pending_event: { ...pending, data: toStorableJson(pending.data, 'data') } },
        unset: write.unset,
      },
    );
    if (!committed) return null;
    this.addToRepairList(tenantId, planId);
    await this.crashPoints.afterPlanWrite?.(pending.event_type, planId);
    const completed = await this.complete(committed);
    this.repairList.remove(tenantId, planId);
    return completed;
  }

  /**
   * Completes a stored plan's pending event: appends it to the ledger (idempotent by its
   * entry_id), then clears it (only while it is still that event). Returns the document as it
   * is after it (nothing pending, ledger_hash its entry's); the same document when nothing was
   * pending. Safe to run any number of times, concurrently too.
   */
  async complete(stored: StoredPlan): Promise<StoredPlan> {
    const pending = stored.pending_event;
    if (!pending) return stored;
    const { plan } = stored;
    // The pending event is the plan's latest: its number is event_count, and so is its seq; the
    // plan's ledger_hash is the hash of the entry before it.
    const entry = await this.ledger.append(
      {
        entry_id: pending.entry_id,
        plan_id: plan.plan_id,
        tenant_id: plan.tenant_id,
        account_id: plan.account_id,
        event_type: pending.event_type,
        actor: pending.actor,
        data: pending.data,
        timestamp: pending.timestamp,
      },
      { expectedSeq: stored.event_count, ...(stored.ledger_hash ? { prevHash: stored.ledger_hash } : {}) },
    );
    await this.crashPoints.afterLedgerAppend?.(plan.plan_id);
    await this.plans.clearPendingEvent(plan.tenant_id, plan.plan_id, pending.entry_id, entry.hash);
    return { ...stored, pending_event: null, ledger_hash: entry.hash };
  }

  /**
   * complete() for readers: the change is committed either way, so a failure puts the plan on
   * the repair list, is logged, and returns the document as it was.
   */
  async completeOrDefer(stored: StoredPlan): Promise<StoredPlan> {
    if (!stored.pending_event) return stored;
    const { tenant_id, plan_id } = stored.plan;
    try {
      return await this.complete(stored);
    } catch (e) {
      this.addToRepairList(tenant_id, plan_id);
      this.logger.warn({ tenant_id, plan_id, err: String(e) }, 'pending ledger event not completed on read');
      return stored;
    }
  }

  /**
   * Restores a plan document a crash lost after its PLAN_CREATED entry: inserts it from the copy
   * in that entry (`created`, or read from the ledger when not given). Returns the stored plan
   * (the one already there if someone restored it first), or null when the plan has no
   * PLAN_CREATED entry or its id is held by another tenant's plan (for this tenant there is no
   * such plan). INTERNAL_SERVER_ERROR when the copy is invalid.
   */
  async restore(tenantId: string, planId: string, created?: CreatedEntry): Promise<StoredPlan | null> {
    const first = created ?? (await this.ledger.createdCopy(tenantId, planId));
    if (!first) return null;
    // The document may be in after all: a racing write or restore of the same plan put it there.
    return (await this.plans.getStored(tenantId, planId)) ?? this.insertFromCopy(tenantId, planId, first);
  }

  /**
   * Repairs one plan: restores its document if a crash lost it, completes its pending event if
   * any. True when there was something to repair. Safe to run any number of times, concurrently too.
   */
  async repair(tenantId: string, planId: string): Promise<boolean> {
    const stored = await this.plans.getStored(tenantId, planId);
    if (stored) {
      if (!stored.pending_event) return false;
      await this.complete(stored);
      return true;
    }
    const restored = await this.restore(tenantId, planId);
    if (!restored) return false;
    await this.complete(restored);
    return true;
  }

  /**
   * The repair sweep: repairs plans whose pending event is older than `olderThanMs` (younger
   * ones are probably still being completed by their writer), in any tenant, up to `limit`,
   * and the plans on this instance's repair list listed that long ago. `scan: false` skips the
   * store-wide query and repairs only the listed ones: on the embedded store that query scans
   * every plan (its filter is a nested field), and the embedded store serves one service
   * process, whose start-up sweep scans once. Returns how many plans it repaired; a plan whose
   * repair fails is logged and left for next time.
   */
  async repairOlderThan(olderThanMs: number, limit = 500, options: { scan?: boolean } = {}): Promise<number> {
    const before = new Date(this.now().getTime() - Math.max(0, olderThanMs));
    const work = new Map(this.repairList.listedBy(before.getTime()).map((item) => [RepairList.key(item.tenant_id, item.plan_id), item]));
    if (options.scan !== false) {
      for (const item of await this.plans.findPendingOlderThan(before, limit)) {
        const key = RepairList.key(item.tenant_id, item.plan_id);
        if (!work.has(key)) work.set(key, { ...item, since: 0 });
      }
    }
    let repaired = 0;
    for (const item of work.values()) {
      const { tenant_id, plan_id } = item;
      try {
        if (await this.repair(tenant_id, plan_id)) repaired += 1;
        this.repairList.removeItem(item);
      } catch (e) {
        this.logger.error({ tenant_id, plan_id, err: String(e) }, 'repair of a half-written plan change failed');
      }
    }
    return repaired;
  }

  /**
   * Restores the plan documents a crash lost after their PLAN_CREATED entries: plans with such
   * an entry (with its copy of the plan) at or after `since` and no document. Returns how many
   * it restored. Runs at start (a scan of the ledger on FerretDB).
   */
  async restoreSince(since: Date): Promise<number> {
    const candidates = await this.ledger.findCreatedSince(since);
    const stored = await this.plans.existingIds(candidates.map((c) => c.plan_id));
    let restored = 0;
    for (const { tenant_id, plan_id } of candidates) {
      if (stored.has(plan_id)) continue;
      try {
        if (await this.restore(tenant_id, plan_id)) restored += 1;
      } catch (e) {
        this.logger.error({ tenant_id, plan_id, err: String(e) }, 'restoring a plan from its PLAN_CREATED entry failed');
      }
    }
    return restored;
  }

  /**
   * Runs repairOlderThan every intervalMs until stop(), which waits for a sweep under way
   * (timers do not hold the process). `scan` as in repairOlderThan.
   */
  startRepairTimer(options: { intervalMs: number; olderThanMs: number; scan?: boolean }): { stop(): Promise<void> } {
    let running: Promise<unknown> = Promise.resolve();
    const sweep = () => {
      running = running
        .then(async () => {
          const repaired = await this.repairOlderThan(options.olderThanMs, 500, { scan: options.scan ?? true });
          if (repaired > 0) this.logger.warn({ repaired }, 'completed half-written plan changes');
        })
        .catch((e: unknown) => this.logger.warn({ err: String(e) }, 'repair sweep failed; will retry'));
    };
    const timer = setInterval(sweep, options.intervalMs);
    timer.unref();
    return {
      stop: async () => {
        clearInterval(timer);
        await running;
      },
    };
  }

  /** Lists a plan for repair: this instance is about to leave it half-written if its next write fails. */
  addToRepairList(tenantId: string, planId: string): void {
    this.repairList.add(tenantId, planId, this.now().getTime());
  }

  /** Takes a plan off the repair list: the write that listed it left it whole. */
  removeFromRepairList(tenantId: string, planId: string): void {
    this.repairList.remove(tenantId, planId);
  }

  /**
   * Inserts the plan document from `created` (the copy and its PLAN_CREATED entry, whose data
   * holds what the copy left out, see createdPlanCopy.ts); the stored one when another writer
   * got there first, null when the id is another tenant's.
   */
  private async insertFromCopy(tenantId: string, planId: string, created: CreatedEntry): Promise<StoredPlan | null> {
    const { data, hash } = created.entry;
    const parsed = CreatedPlanCopySchema.safeParse(readCreatedPlan(created.createdPlan));
    const proposal = parsed.success ? ProposalMetaSchema.nullable().safeParse(parsed.data.proposal) : null;
    const plan = parsed.success ? RevenuePlanV1Schema.safeParse(expandCreatedPlan(parsed.data, data)) : null;
    if (!parsed.success || !proposal?.success || !plan?.success || plan.data.tenant_id !== tenantId || plan.data.plan_id !== planId) {
      this.logger.error({ tenant_id: tenantId, plan_id: planId }, 'the copy of a created plan in its PLAN_CREATED entry is invalid');
      throw new AppError('INTERNAL_SERVER_ERROR', `plan ${planId} cannot be restored from its ledger entry`);
    }
    const stored: StoredPlan = { plan: plan.data, event_count: 1, pending_event: null, proposal: proposal.data, ledger_hash: hash };
    if (await this.plans.insertStored(stored)) {
      this.logger.warn({ tenant_id: tenantId, plan_id: planId }, 'restored a plan document from its PLAN_CREATED entry');
      return stored;
    }
    return this.plans.getStored(tenantId, planId);
  }
}
