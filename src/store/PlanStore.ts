import type { Db } from 'mongodb';
import { z } from 'zod';
import type { LedgerEventType, PlanStatus } from '../domain/enums.js';
import { AppError } from '../domain/errors.js';
import { MAX_DRAFT_EVENTS, type RevenuePlanV1 } from '../domain/plan.js';
import { ProposalMetaSchema, type ProposalMeta } from '../domain/proposalMeta.js';
import { transitionFor } from '../domain/lifecycleMatrix.js';
import { consoleStoreLogger, type StoreLogger } from './mongoErrors.js';
import { PlanCounters } from './PlanCounters.js';
import { PlanLedger, type FirstEntryAppend, type LedgerVerification } from './PlanLedger.js';
import type { Outcome } from './outcome.js';
import { PlanOutbox, planEventId, type CrashPoints, type CreatedEntry, type PlanDocumentWrite } from './PlanOutbox.js';
import { PlanRepository, assertTransition, parsePlanInput, statusChange, type StoredPlan, type TransitionFields } from './PlanRepository.js';
import { documentWrite, parseEvent, parseEventType, type PlanChangeDecision, type PlanChangeInput, type PlanEventInput } from './planChange.js';
import { compactCreatedPlan, storedCreatedPlan } from './createdPlanCopy.js';

// A plan's writes and repairing reads. Every write records its ledger event without
// transactions: a new plan is its PLAN_CREATED entry (with a copy of the plan: the commit point)
// and then its document; a change of an existing plan is committed by one conditional write that
// also parks the event in the document, and completed by PlanOutbox. The protocol, its verbs
// (commit, complete, restore, repair), its crash tables and its round trips: docs/store.md,
// "Writing a plan and its events without transactions" and "Round trips".

export interface PlanStoreDeps {
  plans?: PlanRepository;
  ledger?: PlanLedger;
  counters?: PlanCounters;
  logger?: StoreLogger;
  now?: () => Date;
  /** Test-only: where to simulate crashes (see CrashPoints). */
  crashPoints?: CrashPoints;
}

export type { PlanChangeDecision, PlanChangeInput, PlanEventInput };
export { planEventId };

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

/** The plan fields a draft update sets, as the plan holds them. */
export type DraftFields = Partial<Pick<RevenuePlanV1, 'objective' | 'steps' | 'constraints' | 'expires_at'>>;

/** What updateDraft takes: DraftFields, where constraints null removes them. */
export type DraftChanges = Omit<DraftFields, 'constraints'> & { constraints?: RevenuePlanV1['constraints'] | null };

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
  /** The write protocol past the commit point: completion, restores, the repair sweeps and their timer. */
  readonly outbox: PlanOutbox;
  /** Kept counts per tenant, their tally job and the start-up backfill (docs/store.md, "Kept counts"). */
  readonly counters: PlanCounters;
  private readonly logger: StoreLogger;
  private readonly now: () => Date;
  private readonly crashPoints: CrashPoints;
  /**
   * The document behind each plan object this store returned (read, or written by a change), so
   * a change based on it (basedOn) skips reading the plan again. A stale one costs only a retry:
   * the conditional write checks status, event count and no pending event, and the retry reads.
   */
  private readonly readFrom = new WeakMap<RevenuePlanV1, StoredPlan>();

  constructor(db: Db, deps: PlanStoreDeps = {}) {
    this.logger = deps.logger ?? consoleStoreLogger;
    this.now = deps.now ?? (() => new Date());
    this.crashPoints = deps.crashPoints ?? {};
    this.plans = deps.plans ?? new PlanRepository(db, { logger: this.logger });
    this.ledger = deps.ledger ?? new PlanLedger(db, { logger: this.logger, now: this.now });
    this.counters = deps.counters ?? new PlanCounters(db, { logger: this.logger, now: this.now });
    this.outbox = new PlanOutbox({ plans: this.plans, ledger: this.ledger, logger: this.logger, now: this.now, crashPoints: this.crashPoints });
  }

  /**
   * Stores a new DRAFT plan with its PLAN_CREATED event (ledger first, see the top of this
   * file). If the plan_id is already stored (a repeated idempotent call, possibly racing),
   * returns the stored plan with created: false, restoring its document if a crash lost it.
   */
  async createPlan(input: CreatePlanInput): Promise<CreatePlanResult> {
    const { plan, event, proposal } = checkNewPlan(input);
    const { tenant_id, plan_id } = plan;
    // Until the document is in, the plan is on the repair list: when a write fails, or fails with
    // its outcome unknown (the entry may be stored), the instance's sweep restores it.
    this.outbox.addToRepairList(tenant_id, plan_id);
    const first = await this.ledger.appendFirst(...this.firstEntry(plan, event, proposal));
    if (!first.inserted) return this.createdBefore(tenant_id, plan_id, first);
    await this.crashPoints.afterLedgerAppend?.(plan_id);
    const inserted = await this.plans.insertStored({ plan, event_count: 1, pending_event: null, proposal, ledger_hash: first.entry.hash });
    this.outbox.removeFromRepairList(tenant_id, plan_id);
    return inserted ? { plan, proposal, created: true } : this.takenBetween(tenant_id, plan_id);
  }

  /**
   * createPlan for many plans (a proposal run's chunk) with the same protocol and guarantees,
   * each step one command for all of them: the PLAN_CREATED entries (with their copies) in one
   * unordered insert, then the documents of the plans whose entry was written now in another.
   * One outcome per input, in order: what createPlan would return for it, or the error it
   * would throw (an invalid input is its own BAD_USER_INPUT; a plan already stored, by a
   * crashed earlier try or a racing one, is returned with created: false, its document restored
   * if lost). Throws when a step failed as a whole (the store away): no outcome is known, every
   * input may be tried again (each plan stays on the repair list until its document is in).
   * docs/store.md, "Creating many plans at once".
   */
  async createPlans(inputs: readonly CreatePlanInput[]): Promise<Outcome<CreatePlanResult>[]> {
    const checked = inputs.map((input): Outcome<ReturnType<typeof checkNewPlan>> => {
      try {
        return { ok: true, value: checkNewPlan(input) };
      } catch (error) {
        return { ok: false, error };
      }
    });
    const valid = checked.flatMap((c) => (c.ok ? [c.value] : []));
    for (const { plan } of valid) this.outbox.addToRepairList(plan.tenant_id, plan.plan_id);
    const firsts = await this.ledger.appendFirstMany(valid.map(({ plan, event, proposal }) => {
      const [entry, createdPlan] = this.firstEntry(plan, event, proposal);
      return { entry, createdPlan };
    }));
    const fresh = valid.flatMap((v, i) => {
      const first = firsts[i]!;
      return first.ok && first.value.inserted ? [{ ...v, hash: first.value.entry.hash }] : [];
    });
    for (const { plan } of fresh) await this.crashPoints.afterLedgerAppend?.(plan.plan_id);
    const inserted = await this.plans.insertStoredMany(fresh.map(({ plan, proposal, hash }) => ({ plan, event_count: 1, pending_event: null, proposal, ledger_hash: hash })));
    const documents = new Map(fresh.map((f, i) => [f.plan.plan_id, inserted[i]!]));
    let next = 0;
    return Promise.all(
      checked.map(async (c): Promise<Outcome<CreatePlanResult>> => {
        if (!c.ok) return c;
        const { plan, proposal } = c.value;
        const { tenant_id, plan_id } = plan;
        const first = firsts[next++]!;
        try {
          if (!first.ok) throw first.error;
          if (!first.value.inserted) return { ok: true, value: await this.createdBefore(tenant_id, plan_id, first.value) };
          const document = documents.get(plan_id)!;
          if (!document.ok) throw document.error;
          this.outbox.removeFromRepairList(tenant_id, plan_id);
          return { ok: true, value: document.value ? { plan, proposal, created: true } : await this.takenBetween(tenant_id, plan_id) };
        } catch (error) {
          return { ok: false, error };
        }
      }),
    );
  }

  /** A new plan's PLAN_CREATED entry and the copy of the plan kept with it. */
  private firstEntry(plan: RevenuePlanV1, event: PlanEventInput, proposal: ProposalMeta): [FirstEntryAppend, Record<string, unknown>] {
    const entry: FirstEntryAppend = {
      entry_id: planEventId(plan.tenant_id, plan.plan_id, 1),
      plan_id: plan.plan_id,
      tenant_id: plan.tenant_id,
      account_id: plan.account_id,
      event_type: 'PLAN_CREATED',
      actor: event.actor,
      data: event.data,
      timestamp: this.now(),
    };
    // What the entry's data holds of the plan is not copied again, and the rest is one text (createdPlanCopy.ts).
    return [entry, storedCreatedPlan(compactCreatedPlan(plan, proposal, event.data))];
  }

  /** Seq 1 holds this plan's PLAN_CREATED already (an earlier attempt of this create, or a racing one): the stored plan, restored if need be. */
  private async createdBefore(tenantId: string, planId: string, first: CreatedEntry): Promise<CreatePlanResult> {
    const existing = await this.outbox.restore(tenantId, planId, first);
    if (!existing) throw new AppError('CONFLICT', `plan id ${planId} is already in use`);
    this.outbox.removeFromRepairList(tenantId, planId);
    return { plan: existing.plan, proposal: existing.proposal, created: false };
  }

  /**
   * The document's id was taken between the two inserts: by a restore of this very plan (a
   * racing retry or read restored it from the ledger), or, with a hand-made id, by another
   * tenant's plan.
   */
  private async takenBetween(tenantId: string, planId: string): Promise<CreatePlanResult> {
    const stored = await this.plans.getStored(tenantId, planId);
    if (!stored) throw new AppError('CONFLICT', `plan id ${planId} is already in use`);
    return { plan: stored.plan, proposal: stored.proposal, created: true };
  }

  /**
   * Changes an existing plan with one ledger event of `event_type`, as `decide` says (see
   * PlanChangeInput): committed by one conditional write (status, event count, nothing
   * pending), then completed. Returns the plan after the change. NOT_FOUND; what decide throws;
   * BAD_USER_INPUT for a change that leaves an invalid plan or touches its identity;
   * INVALID_TRANSITION for a status move the lifecycle forbids; CONFLICT when the plan keeps
   * changing under us; CONFLICT with reason ACTIVE_PLAN_EXISTS when a move to ACTIVE finds the
   * slot taken. docs/store.md, "Adding an operation that changes a plan".
   */
  async change(input: PlanChangeInput): Promise<RevenuePlanV1> {
    const eventType = parseEventType(input.event_type);
    return this.commitChange(input.tenantId, input.planId, input.basedOn, (current, now, eventCount) => {
      // A DRAFT's chain is bounded (updates are the only events that keep it a DRAFT).
      if (current.plan_status === 'DRAFT' && eventType === 'PLAN_UPDATED' && eventCount >= MAX_DRAFT_EVENTS) {
        throw new AppError('CONFLICT', `plan ${input.planId} has ${eventCount} events, the most a DRAFT may have (${MAX_DRAFT_EVENTS}); approve it or propose a new plan`);
      }
      return documentWrite(current, eventType, input.decide(current, now), now);
    });
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
    return this.change({
      tenantId,
      planId,
      event_type: input.event.event_type,
      ...(input.basedOn ? { basedOn: input.basedOn } : {}),
      decide: (current, now) => {
        if (current.plan_status !== from) {
          throw new AppError('CONFLICT', `plan ${planId} is ${current.plan_status}, not ${from}; reload and retry`, {
            expected_status: from,
            actual_status: current.plan_status,
          });
        }
        return { set: statusChange(current, to, input.fields ?? {}, now), event };
      },
    });
  }

  /** Changes a DRAFT plan's objective, steps, constraints or expiry, with a PLAN_UPDATED event. */
  async updateDraft(input: UpdateDraftInput): Promise<RevenuePlanV1> {
    const { tenantId, planId } = input;
    const changes = DraftChangesSchema.safeParse(input.changes);
    if (!changes.success) throw new AppError('BAD_USER_INPUT', `invalid draft changes: ${changes.error.issues[0]?.message ?? ''}`);
    const event = parseEvent(input.event);
    return this.change({
      tenantId,
      planId,
      event_type: 'PLAN_UPDATED',
      ...(input.basedOn ? { basedOn: input.basedOn } : {}),
      decide: (current, now) => {
        if (current.plan_status !== 'DRAFT') {
          throw new AppError('INVALID_TRANSITION', `plan ${planId} is ${current.plan_status}; only a DRAFT can be edited`);
        }
        const { constraints, ...rest } = changes.data;
        // Validated here as a whole draft, so a bad step is named as the plan's (change validates again).
        const next: Record<string, unknown> = { ...current, ...rest, updated_at: now };
        if (constraints === null) delete next.constraints;
        else if (constraints !== undefined) next.constraints = constraints;
        const plan = parsePlanInput(next);
        const set: Record<string, unknown> = { updated_at: now };
        for (const key of ['objective', 'steps', 'expires_at', 'constraints'] as const) {
          if (key in changes.data && plan[key] !== undefined) set[key] = plan[key];
        }
        return { set, unset: constraints === null ? ['constraints'] : [], event };
      },
    });
  }

  /** The plan (null when absent or another tenant's), after completing a pending event if any. */
  async getPlanRepaired(tenantId: string, planId: string, accountId?: string): Promise<RevenuePlanV1 | null> {
    const stored = await this.readStored(tenantId, planId);
    if (!stored || (accountId !== undefined && stored.plan.account_id !== accountId)) return null;
    this.remember(await this.outbox.completeOrDefer(stored));
    return stored.plan;
  }

  /** The plan and its proposal metadata in one read (null when absent), its pending event completed. */
  async getPlanWithProposal(tenantId: string, planId: string): Promise<{ plan: RevenuePlanV1; proposal: ProposalMeta | null } | null> {
    const stored = await this.readStored(tenantId, planId);
    if (!stored) return null;
    this.remember(await this.outbox.completeOrDefer(stored));
    return { plan: stored.plan, proposal: stored.proposal };
  }

  /**
   * Verifies a plan's chain; the plan's event count also catches entries cut off its end.
   * The count is read before the ledger, so an event appended in between never looks missing.
   */
  async verifyPlanLedger(tenantId: string, planId: string): Promise<LedgerVerification> {
    // A half-written plan is repaired first, so the chain is judged against a whole plan.
    await this.outbox.repair(tenantId, planId);
    const stored = await this.plans.getStored(tenantId, planId);
    const expectedEntries = stored ? stored.event_count - (stored.pending_event ? 1 : 0) : undefined;
    return this.ledger.verify(tenantId, planId, expectedEntries === undefined ? {} : { expectedEntries });
  }

  /**
   * The loop of a change of an existing plan. `decide` sees the current plan (with no event
   * pending) and returns the write, or throws to refuse it. A write whose guards do not hold
   * (someone changed the plan since we read it) is decided again once against the new state.
   * The first attempt starts from the document behind `basedOn` when this store returned it.
   */
  private async commitChange(
    tenantId: string,
    planId: string,
    basedOn: RevenuePlanV1 | undefined,
    decide: (current: RevenuePlanV1, now: Date, eventCount: number) => PlanDocumentWrite,
  ): Promise<RevenuePlanV1> {
    const known = basedOn ? this.readFrom.get(basedOn) : undefined;
    const start = known && known.plan.tenant_id === tenantId && known.plan.plan_id === planId ? known : null;
    // A stale start costs an attempt of its own: two still read the plan.
    for (let attempt = start ? -1 : 0; attempt < 2; attempt++) {
      let current = attempt === -1 && start ? start : await this.readStored(tenantId, planId);
      if (current?.pending_event) {
        // Completed, the plan is as read without it (the conditional write checks that it still is).
        current = await this.outbox.complete(current);
      }
      if (!current) throw new AppError('NOT_FOUND', `plan ${planId} not found`);
      const changed = await this.outbox.commitAndComplete(current, decide(current.plan, this.now(), current.event_count));
      if (!changed) continue;
      this.remember(changed);
      return changed.plan;
    }
    throw new AppError('CONFLICT', `plan ${planId} keeps changing concurrently; reload and retry`);
  }

  /** Keeps the document behind a plan object this store returns (see readFrom). */
  private remember(stored: StoredPlan): void {
    this.readFrom.set(stored.plan, stored);
  }

  /**
   * The stored plan, or null. A plan whose document a crash lost between createPlan's two
   * inserts is restored first (one more read by _id, only when the document is missing).
   */
  private async readStored(tenantId: string, planId: string): Promise<StoredPlan | null> {
    return (await this.plans.getStored(tenantId, planId)) ?? (await this.outbox.restore(tenantId, planId));
  }
}

/** A new plan's input, checked: a DRAFT plan, its event and its proposal metadata. */
function checkNewPlan(input: CreatePlanInput): { plan: RevenuePlanV1; event: PlanEventInput; proposal: ProposalMeta } {
  const plan = parsePlanInput(input.plan);
  if (plan.plan_status !== 'DRAFT') throw new AppError('INVALID_TRANSITION', `a new plan must be DRAFT, not ${plan.plan_status}`);
  const event = parseEvent(input.event);
  const proposal = ProposalMetaSchema.safeParse(input.proposal);
  if (!proposal.success) throw new AppError('BAD_USER_INPUT', 'invalid proposal metadata');
  return { plan, event, proposal: proposal.data };
}
