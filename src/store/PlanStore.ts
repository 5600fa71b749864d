import type { Db } from 'mongodb';
import { z } from 'zod';
import type { LedgerEventType, PlanStatus } from '../domain/enums.js';
import { AppError, isAppError } from '../domain/errors.js';
import { MAX_DRAFT_EVENTS, RevenuePlanV1Schema, type PlanStepV1, type RevenuePlanV1 } from '../domain/plan.js';
import { ProposalMetaSchema, type ProposalMeta } from '../domain/proposalMeta.js';
import { transitionFor } from '../domain/lifecycleMatrix.js';
import { toStorableJson } from '../domain/storableJson.js';
import { consoleStoreLogger, type StoreLogger } from './mongoErrors.js';
import { PlanLedger, ledgerEntryKey, type LedgerVerification } from './PlanLedger.js';
import {
  PlanRepository,
  assertTransition,
  parsePlanInput,
  statusChange,
  type PendingEvent,
  type StoredPlan,
  type TransitionFields,
} from './PlanRepository.js';
import { CreatedPlanCopySchema, compactCreatedPlan, expandCreatedPlan, readCreatedPlan, storedCreatedPlan } from './createdPlanCopy.js';

// A plan change and its ledger event, without transactions: a new plan is its PLAN_CREATED
// entry (with a copy of the plan: the commit point) and then its document; a change of an
// existing plan is one conditional write that also parks the event in the document
// (pending_event: the commit point), the append, and the clear. Every half-written state is
// completed on retry, on read, before the plan's next change and by the sweeps. The protocol,
// its crash tables and its round trips: docs/store.md, "Writing a plan and its events without
// transactions" and "Round trips".

export interface PlanStoreDeps {
  plans?: PlanRepository;
  ledger?: PlanLedger;
  logger?: StoreLogger;
  now?: () => Date;
}

export interface PlanEventInput {
  actor: string | null;
  data: Record<string, unknown>;
}

export interface CreatePlanInput {
  /** A DRAFT plan; for idempotent calls its plan_id is derived from tenant + idempotency key. */
  plan: RevenuePlanV1;
  /** The PLAN_CREATED event. */
  event: PlanEventInput;
  proposal: ProposalMeta;
}

export interface CreatePlanResult {
  plan: RevenuePlanV1;
  proposal: ProposalMeta | null;
  /** false when the plan_id was already stored: the stored plan is returned. */
  created: boolean;
}

export interface TransitionInput {
  tenantId: string;
  planId: string;
  from: PlanStatus;
  to: PlanStatus;
  fields?: TransitionFields;
  event: PlanEventInput & { event_type: LedgerEventType };
  /** The plan as this store returned it to the caller: the change starts from it, without reading the plan again. */
  basedOn?: RevenuePlanV1;
}

export interface DraftChanges {
  objective?: string;
  steps?: PlanStepV1[];
  /** null removes the constraints. */
  constraints?: Record<string, unknown> | null;
  expires_at?: Date;
}

export interface UpdateDraftInput {
  tenantId: string;
  planId: string;
  changes: DraftChanges;
  /** The PLAN_UPDATED event (its type may be given; it can only be PLAN_UPDATED). */
  event: PlanEventInput & { event_type?: 'PLAN_UPDATED' };
  /** As in TransitionInput. */
  basedOn?: RevenuePlanV1;
}

export type { ProposalMeta };

/**
 * The entry_id of a plan's n-th event (1-based): the same on every retry of that event, and
 * the ledger's key (the _id) of seq n of the plan's chain.
 */
export const planEventId = (tenantId: string, planId: string, eventNumber: number): string =>
  ledgerEntryKey(tenantId, planId, eventNumber);

const owedKey = (tenantId: string, planId: string) => `${tenantId}\u0000${planId}`;

const EventInputSchema = z.object({ actor: z.string().nullable(), data: z.record(z.string(), z.unknown()) });

const DraftChangesSchema = z
  .object({
    objective: z.string().optional(),
    steps: z.array(z.unknown()).optional(),
    constraints: z.record(z.string(), z.unknown()).nullable().optional(),
    expires_at: z.date().optional(),
  })
  .strict();

export class PlanStore {
  readonly plans: PlanRepository;
  readonly ledger: PlanLedger;
  private readonly logger: StoreLogger;
  private readonly now: () => Date;
  /** Plans this instance left half-written while it kept running (a write failed): the sweep settles them. */
  private readonly owed = new Map<string, { tenant_id: string; plan_id: string; since: number }>();
  /**
   * The document behind each plan object this store returned (read, or written by a change), so
   * a change based on it (basedOn) skips reading the plan again. A stale one costs only a retry:
   * the conditional write checks status, event count and no pending event, and the retry reads.
   */
  private readonly readFrom = new WeakMap<RevenuePlanV1, StoredPlan>();

  constructor(db: Db, deps: PlanStoreDeps = {}) {
    this.logger = deps.logger ?? consoleStoreLogger;
    this.now = deps.now ?? (() => new Date());
    this.plans = deps.plans ?? new PlanRepository(db, { logger: this.logger });
    this.ledger = deps.ledger ?? new PlanLedger(db, { logger: this.logger, now: this.now });
  }

  /**
   * Stores a new DRAFT plan with its PLAN_CREATED event (ledger first, see the top of this
   * file). If the plan_id is already stored (a repeated idempotent call, possibly racing),
   * returns the stored plan with created: false, restoring its document if a crash lost it.
   */
  async createPlan(input: CreatePlanInput): Promise<CreatePlanResult> {
    const plan = parsePlanInput(input.plan);
    if (plan.plan_status !== 'DRAFT') throw new AppError('INVALID_TRANSITION', `a new plan must be DRAFT, not ${plan.plan_status}`);
    const event = parseEvent(input.event);
    const parsedProposal = ProposalMetaSchema.safeParse(input.proposal);
    if (!parsedProposal.success) throw new AppError('BAD_USER_INPUT', 'invalid proposal metadata');
    const proposal = parsedProposal.data;
    const { tenant_id, plan_id } = plan;
    // Until the document is in, this create is owed: when a write fails, or fails with its
    // outcome unknown (the entry may be stored), the instance's sweep settles it.
    this.owe(tenant_id, plan_id);
    const first = await this.ledger.appendFirst(
      {
        entry_id: planEventId(tenant_id, plan_id, 1),
        plan_id,
        tenant_id,
        account_id: plan.account_id,
        event_type: 'PLAN_CREATED',
        actor: event.actor,
        data: event.data,
        timestamp: this.now(),
      },
      // What the entry's data holds of the plan is not copied again, and the rest is one text (createdPlanCopy.ts).
      storedCreatedPlan(compactCreatedPlan(plan, proposal, event.data)),
    );
    if (!first.inserted) {
      // Seq 1 holds this plan's PLAN_CREATED already: an earlier attempt of this create, or a racing one.
      const existing = await this.restoreCreated(tenant_id, plan_id, first.createdPlan, first.entry);
      this.owed.delete(owedKey(tenant_id, plan_id));
      return { plan: existing.plan, proposal: existing.proposal, created: false };
    }
    await this.afterLedgerAppend(plan_id);
    const inserted = await this.plans.insertStored({ plan, event_count: 1, pending_event: null, proposal, ledger_hash: first.entry.hash });
    this.owed.delete(owedKey(tenant_id, plan_id));
    if (inserted) return { plan, proposal, created: true };
    // Taken between the two inserts: by a restore of this very plan (a racing retry or read
    // restored it from the ledger), or, with a hand-made id, by another tenant's plan.
    const stored = await this.plans.getStored(tenant_id, plan_id);
    if (!stored) throw new AppError('CONFLICT', `plan id ${plan_id} is already in use`);
    return { plan: stored.plan, proposal: stored.proposal, created: true };
  }

  /**
   * Moves a plan from `from` to `to` with its ledger event. INVALID_TRANSITION for a move the
   * lifecycle forbids; NOT_FOUND; CONFLICT when the plan is no longer `from` or keeps changing
   * under us; CONFLICT with reason ACTIVE_PLAN_EXISTS when another plan holds the active slot.
   */
  async transition(input: TransitionInput): Promise<RevenuePlanV1> {
    const { tenantId, planId, from, to } = input;
    assertTransition(from, to);
    const expectedEvent = transitionFor(from, to)?.event_type;
    if (input.event.event_type !== expectedEvent) {
      throw new AppError('BAD_USER_INPUT', `${from} -> ${to} records ${String(expectedEvent)}, not ${input.event.event_type}`);
    }
    const event = parseEvent(input.event);
    return this.changePlan(tenantId, planId, 'transition', input.basedOn, (current) => {
      if (current.plan.plan_status !== from) {
        throw new AppError('CONFLICT', `plan ${planId} is ${current.plan.plan_status}, not ${from}; reload and retry`, {
          expected_status: from,
          actual_status: current.plan.plan_status,
        });
      }
      const now = this.now();
      return {
        expectStatus: from,
        set: statusChange(current.plan, to, input.fields ?? {}, now),
        unset: [],
        event: { event_type: input.event.event_type, actor: event.actor, data: event.data, timestamp: now },
      };
    });
  }

  /** Changes a DRAFT plan's objective, steps, constraints or expiry, with a PLAN_UPDATED event. */
  async updateDraft(input: UpdateDraftInput): Promise<RevenuePlanV1> {
    const { tenantId, planId } = input;
    const changes = DraftChangesSchema.safeParse(input.changes);
    if (!changes.success) throw new AppError('BAD_USER_INPUT', `invalid draft changes: ${changes.error.issues[0]?.message ?? ''}`);
    const event = parseEvent(input.event);
    return this.changePlan(tenantId, planId, 'update', input.basedOn, (current) => {
      if (current.plan.plan_status !== 'DRAFT') {
        throw new AppError('INVALID_TRANSITION', `plan ${planId} is ${current.plan.plan_status}; only a DRAFT can be edited`);
      }
      if (current.event_count >= MAX_DRAFT_EVENTS) throw new AppError('CONFLICT', `plan ${planId} has ${current.event_count} events, the most a DRAFT may have (${MAX_DRAFT_EVENTS}); approve it or propose a new plan`);
      const now = this.now();
      const { constraints, ...rest } = changes.data;
      const next: Record<string, unknown> = { ...current.plan, ...rest, updated_at: now };
      if (constraints === null) delete next.constraints;
      else if (constraints !== undefined) next.constraints = constraints;
      const plan = parsePlanInput(next);
      const set: Record<string, unknown> = { updated_at: now };
      for (const key of ['objective', 'steps', 'expires_at', 'constraints'] as const) {
        if (key in changes.data && plan[key] !== undefined) set[key] = plan[key];
      }
      return {
        expectStatus: 'DRAFT',
        set,
        unset: constraints === null ? ['constraints'] : [],
        event: { event_type: 'PLAN_UPDATED', actor: event.actor, data: event.data, timestamp: now },
      };
    });
  }

  /**
   * Completes a plan's pending event (ledger append, then clear). True when there was one.
   * Safe to run any number of times, concurrently too.
   */
  protected async flushPending(tenantId: string, planId: string): Promise<boolean> {
    const stored = await this.loadStored(tenantId, planId);
    return stored ? this.complete(stored) : false;
  }

  /** The plan (null when absent or another tenant's), after completing a pending event if any. */
  async getPlanRepaired(tenantId: string, planId: string, accountId?: string): Promise<RevenuePlanV1 | null> {
    const stored = await this.loadStored(tenantId, planId);
    if (!stored || (accountId !== undefined && stored.plan.account_id !== accountId)) return null;
    this.remember(await this.completeOnRead(stored));
    return stored.plan;
  }

  /** The plan and its proposal metadata in one read (null when absent), its pending event completed. */
  async getPlanWithProposal(tenantId: string, planId: string): Promise<{ plan: RevenuePlanV1; proposal: ProposalMeta | null } | null> {
    const stored = await this.loadStored(tenantId, planId);
    if (!stored) return null;
    this.remember(await this.completeOnRead(stored));
    return { plan: stored.plan, proposal: stored.proposal };
  }

  /**
   * Verifies a plan's chain; the plan's event count also catches entries cut off its end.
   * The count is read before the ledger, so an event appended in between never looks missing.
   */
  async verifyPlanLedger(tenantId: string, planId: string): Promise<LedgerVerification> {
    // A half-written change is completed first, so the chain is judged against a settled plan.
    await this.flushPending(tenantId, planId);
    const stored = await this.plans.getStored(tenantId, planId);
    const expectedEntries = stored ? stored.event_count - (stored.pending_event ? 1 : 0) : undefined;
    return this.ledger.verify(tenantId, planId, expectedEntries === undefined ? {} : { expectedEntries });
  }

  /**
   * The repair sweep: completes pending events older than `olderThanMs` (younger ones are
   * probably still being completed by their writer), in any tenant, up to `limit` plans, and
   * settles what this instance knows it left half-written (a failed ledger append or plan
   * insert while it kept running). `scan: false` skips the store-wide query and settles only
   * those: on the embedded store that query scans every plan (its filter is a nested field), and
   * the embedded store serves one service process, whose start-up sweep scans once.
   * Returns how many plans it repaired; a plan whose repair fails is logged and left for next time.
   */
  async repairPendingEvents(olderThanMs: number, limit = 500, options: { scan?: boolean } = {}): Promise<number> {
    const before = new Date(this.now().getTime() - Math.max(0, olderThanMs));
    // Younger ones are probably still being completed by their writer.
    const work = new Map([...this.owed].filter(([, item]) => item.since <= before.getTime()));
    if (options.scan !== false) {
      for (const item of await this.plans.findPendingOlderThan(before, limit)) {
        const key = owedKey(item.tenant_id, item.plan_id);
        if (!work.has(key)) work.set(key, { ...item, since: 0 });
      }
    }
    let repaired = 0;
    for (const [key, item] of work) {
      const { tenant_id, plan_id } = item;
      try {
        if (await this.settle(tenant_id, plan_id)) repaired += 1;
        // Unless the plan was owed again meanwhile (a newer write of it failed).
        if (this.owed.get(key) === item) this.owed.delete(key);
      } catch (e) {
        this.logger.error({ tenant_id, plan_id, err: String(e) }, 'repair of a half-written plan change failed');
      }
    }
    return repaired;
  }

  /**
   * Restores plan documents that a crash lost between createPlan's two inserts: plans with a
   * PLAN_CREATED entry (with its copy of the plan) at or after `since` and no document.
   * Returns how many it restored. Runs at start (a scan of the ledger on FerretDB).
   */
  async restoreOrphanedCreates(since: Date): Promise<number> {
    const candidates = await this.ledger.findCreatedSince(since);
    const stored = await this.plans.existingIds(candidates.map((c) => c.plan_id));
    let restored = 0;
    for (const { tenant_id, plan_id } of candidates) {
      if (stored.has(plan_id)) continue;
      try {
        if (await this.restoreMissing(tenant_id, plan_id)) restored += 1;
      } catch (e) {
        this.logger.error({ tenant_id, plan_id, err: String(e) }, 'restoring a plan from its PLAN_CREATED entry failed');
      }
    }
    return restored;
  }

  /**
   * Runs the repair sweep every intervalMs until stop(), which waits for a sweep under way
   * (timers do not hold the process). `scan` as in repairPendingEvents.
   */
  startPendingRepair(options: { intervalMs: number; olderThanMs: number; scan?: boolean }): { stop(): Promise<void> } {
    let running: Promise<unknown> = Promise.resolve();
    const sweep = () => {
      running = running
        .then(async () => {
          const repaired = await this.repairPendingEvents(options.olderThanMs, 500, { scan: options.scan ?? true });
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


  /**
   * Steps 1 to 3 for a change of an existing plan. `decide` sees the current plan (with no
   * event pending) and returns the write, or throws to refuse it. A write that does not match
   * (someone changed the plan since we read it) is decided again once against the new state.
   * The first attempt starts from the document behind `basedOn` when this store returned it.
   */
  private async changePlan(
    tenantId: string,
    planId: string,
    op: 'transition' | 'update',
    basedOn: RevenuePlanV1 | undefined,
    decide: (current: StoredPlan) => {
      expectStatus: PlanStatus;
      set: Record<string, unknown>;
      unset: string[];
      event: Omit<PendingEvent, 'entry_id'>;
    },
  ): Promise<RevenuePlanV1> {
    const known = basedOn ? this.readFrom.get(basedOn) : undefined;
    const start = known && known.plan.tenant_id === tenantId && known.plan.plan_id === planId ? known : null;
    // A stale start costs an attempt of its own: two still read the plan.
    for (let attempt = start ? -1 : 0; attempt < 2; attempt++) {
      let current = attempt === -1 && start ? start : await this.loadStored(tenantId, planId);
      if (current?.pending_event) {
        // Completed, the plan is as read without it (the conditional write checks that it still is).
        current = await this.completed(current);
      }
      if (!current) throw new AppError('NOT_FOUND', `plan ${planId} not found`);
      const write = decide(current);
      const eventNumber = current.event_count + 1;
      const pending: PendingEvent = { entry_id: planEventId(tenantId, planId, eventNumber), ...write.event };
      const updated = await this.plans.compareAndSet(
        tenantId,
        planId,
        { status: write.expectStatus, event_count: current.event_count },
        {
          set: { ...write.set, event_count: eventNumber, pending_event: { ...pending, data: toStorableJson(pending.data, 'data') } },
          unset: write.unset,
        },
      );
      if (!updated) continue;
      this.owe(tenantId, planId);
      await this.afterPlanWrite(op, planId);
      const settled = await this.completed(updated);
      this.owed.delete(owedKey(tenantId, planId));
      this.remember(settled);
      return updated.plan;
    }
    throw new AppError('CONFLICT', `plan ${planId} keeps changing concurrently; reload and retry`);
  }

  /**
   * Runs after a changed plan document (with its pending event) is written, before the ledger
   * append: a point where a crash leaves a half-written change. Does nothing; a test subclass
   * (test/support/crashingPlanStore.ts) throws here to simulate one.
   */
  protected afterPlanWrite(_op: 'transition' | 'update', _planId: string): void | Promise<void> {}

  /** Runs after a ledger append (of a change: before its outbox is cleared; of a create: before the plan document is inserted); as afterPlanWrite. */
  protected afterLedgerAppend(_planId: string): void | Promise<void> {}

  /**
   * complete() for readers: the plan change is committed either way, so a failure is only logged
   * (retried later). Returns the document as it is after it.
   */
  private async completeOnRead(stored: StoredPlan): Promise<StoredPlan> {
    if (!stored.pending_event) return stored;
    const { tenant_id, plan_id } = stored.plan;
    try {
      return await this.completed(stored);
    } catch (e) {
      this.owe(tenant_id, plan_id);
      this.logger.warn({ tenant_id, plan_id, err: String(e) }, 'pending ledger event not completed on read');
      return stored;
    }
  }

  /** Keeps the document behind a plan object this store returns (see readFrom). */
  private remember(stored: StoredPlan): void {
    this.readFrom.set(stored.plan, stored);
  }

  /** Remembers a plan this instance is about to leave half-written if the next write fails. */
  private owe(tenantId: string, planId: string): void {
    this.owed.set(owedKey(tenantId, planId), { tenant_id: tenantId, plan_id: planId, since: this.now().getTime() });
  }

  /**
   * The stored plan, or null. A plan whose document a crash lost between createPlan's two
   * inserts is restored from its PLAN_CREATED entry first (one more read by _id, only when the
   * document is missing).
   */
  private async loadStored(tenantId: string, planId: string): Promise<StoredPlan | null> {
    return (await this.plans.getStored(tenantId, planId)) ?? (await this.restoreMissing(tenantId, planId));
  }

  /** Restores a missing plan document from the copy in its PLAN_CREATED entry; null when there is none. */
  private async restoreMissing(tenantId: string, planId: string): Promise<StoredPlan | null> {
    const first = await this.ledger.createdCopy(tenantId, planId);
    if (!first) return null;
    try {
      return await this.restoreCreated(tenantId, planId, first.createdPlan, first.entry);
    } catch (e) {
      // The id is held by another tenant's plan: for this tenant there is no such plan.
      if (isAppError(e) && e.code === 'CONFLICT') return null;
      throw e;
    }
  }

  /**
   * The stored plan, inserting it when its document is missing from `copy` (a CreatedPlanCopy)
   * and its PLAN_CREATED `entry` (the data holds what the copy left out, see createdPlanCopy.ts).
   */
  private async restoreCreated(
    tenantId: string,
    planId: string,
    copy: unknown,
    entry: { data: Record<string, unknown>; hash: string },
  ): Promise<StoredPlan> {
    const { data, hash } = entry;
    const existing = await this.plans.getStored(tenantId, planId);
    if (existing) return existing;
    const parsed = CreatedPlanCopySchema.safeParse(readCreatedPlan(copy));
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
    const now = await this.plans.getStored(tenantId, planId);
    if (!now) throw new AppError('CONFLICT', `plan id ${planId} is already in use`);
    return now;
  }

  /** Brings one plan to a settled state (document present, nothing pending); true when that took a repair. */
  private async settle(tenantId: string, planId: string): Promise<boolean> {
    const stored = await this.plans.getStored(tenantId, planId);
    if (stored) return this.complete(stored);
    const restored = await this.restoreMissing(tenantId, planId);
    if (!restored) return false;
    await this.complete(restored);
    return true;
  }

  /** Steps 2 and 3 for a stored plan's pending event; false when none is pending. */
  private async complete(stored: StoredPlan): Promise<boolean> {
    if (!stored.pending_event) return false;
    await this.completed(stored);
    return true;
  }

  /** complete(), returning the document as it is after it (nothing pending, ledger_hash its entry's). */
  private async completed(stored: StoredPlan): Promise<StoredPlan> {
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
    await this.afterLedgerAppend(plan.plan_id);
    await this.plans.clearPendingEvent(plan.tenant_id, plan.plan_id, pending.entry_id, entry.hash);
    return { ...stored, pending_event: null, ledger_hash: entry.hash };
  }
}

function parseEvent(event: PlanEventInput): { actor: string | null; data: Record<string, unknown> } {
  const parsed = EventInputSchema.safeParse(event);
  if (!parsed.success) throw new AppError('BAD_USER_INPUT', `invalid event: ${parsed.error.issues[0]?.message ?? ''}`);
  return { actor: parsed.data.actor, data: toStorableJson(parsed.data.data, 'data') as Record<string, unknown> };
}
