import { z } from 'zod';
import { LEDGER_EVENT_TYPES, type LedgerEventType } from '../domain/enums.js';
import { AppError } from '../domain/errors.js';
import { RevenuePlanV1Schema, type RevenuePlanV1 } from '../domain/plan.js';
import { toStorableJson } from '../domain/storableJson.js';
import type { PlanDocumentWrite } from './PlanOutbox.js';
import { activeSlotFor, assertTransition, parsePlanInput } from './PlanRepository.js';

// A change of an existing plan as an operation states it (PlanStore.change), checked and turned
// into the document write the protocol commits. docs/store.md, "Adding an operation that
// changes a plan".

/** A plan's identity: no change may touch it. */
const IDENTITY_FIELDS = ['plan_id', 'tenant_id', 'account_id', 'plan_type', 'created_at'] as const;
const IDENTITY = Object.fromEntries(IDENTITY_FIELDS.map((f) => [f, true as const])) as { [K in (typeof IDENTITY_FIELDS)[number]]: true };

/** The fields a change may set. */
export type PlanFieldChanges = Partial<Omit<RevenuePlanV1, (typeof IDENTITY_FIELDS)[number]>>;
const PlanFieldChangesSchema = RevenuePlanV1Schema.omit(IDENTITY).partial().strict();

/** The fields a change may remove: the optional ones. */
export type RemovablePlanField = {
  [K in keyof PlanFieldChanges]-?: undefined extends RevenuePlanV1[K] ? K : never;
}[keyof PlanFieldChanges];
const REMOVABLE_FIELDS: ReadonlySet<string> = new Set(
  Object.entries(RevenuePlanV1Schema.omit(IDENTITY).shape)
    .filter(([, schema]) => schema.isOptional())
    .map(([field]) => field),
);

export interface PlanEventInput {
  actor: string | null;
  data: Record<string, unknown>;
}

/** What a change writes, as its decide function returns it. */
export interface PlanChangeDecision {
  /**
   * Plan fields to set. A new plan_status must be a move the lifecycle allows; the store moves
   * the plan's active slot with it. The plan after the change must be a valid plan.
   */
  set: PlanFieldChanges;
  /** Optional plan fields to remove. */
  unset?: readonly RemovablePlanField[];
  /** The event's actor and data; its type is the change's event_type. */
  event: PlanEventInput;
}

export interface PlanChangeInput {
  tenantId: string;
  planId: string;
  /** The type of the ledger event the change records. */
  event_type: LedgerEventType;
  /** The plan as this store returned it to the caller: the change starts from it, without reading the plan again. */
  basedOn?: RevenuePlanV1;
  /**
   * Sees the plan as stored now (nothing pending: a half-written earlier change is completed
   * first) and the change's time, which is also its event's timestamp; returns the change, or
   * throws an AppError to refuse it (then nothing is written). When the plan changed under it,
   * it is asked again with the new state (at most twice more), so it must not have effects.
   */
  decide(current: RevenuePlanV1, now: Date): PlanChangeDecision;
}

const EventInputSchema = z.object({ actor: z.string().nullable(), data: z.record(z.string(), z.unknown()) });
const EventTypeSchema = z.enum(LEDGER_EVENT_TYPES);

/** An event's actor and data, validated, its data in the form the store keeps: BAD_USER_INPUT otherwise. */
export function parseEvent(event: PlanEventInput): PlanEventInput {
  const parsed = EventInputSchema.safeParse(event);
  if (!parsed.success) throw new AppError('BAD_USER_INPUT', `invalid event: ${parsed.error.issues[0]?.message ?? ''}`);
  return { actor: parsed.data.actor, data: toStorableJson(parsed.data.data, 'data') as Record<string, unknown> };
}

/** BAD_USER_INPUT unless `eventType` is a ledger event type. */
export function parseEventType(eventType: LedgerEventType): LedgerEventType {
  const parsed = EventTypeSchema.safeParse(eventType);
  if (!parsed.success) throw new AppError('BAD_USER_INPUT', `invalid event type: ${String(eventType)}`);
  return parsed.data;
}

/**
 * The document write of `decision` on `current`: only plan fields outside the identity, a plan
 * that still validates (the values written are the validated ones), a status move the lifecycle
 * allows with the active slot moved along. BAD_USER_INPUT or INVALID_TRANSITION otherwise.
 */
export function documentWrite(current: RevenuePlanV1, eventType: LedgerEventType, decision: PlanChangeDecision, now: Date): PlanDocumentWrite {
  const set = PlanFieldChangesSchema.safeParse(decision.set);
  if (!set.success) {
    const issue = set.error.issues[0];
    throw new AppError('BAD_USER_INPUT', `invalid plan change: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unknown'}`);
  }
  const unset = [...(decision.unset ?? [])];
  const notRemovable = unset.find((field) => !REMOVABLE_FIELDS.has(field));
  if (notRemovable !== undefined) throw new AppError('BAD_USER_INPUT', `invalid plan change: ${String(notRemovable)} cannot be removed`);
  const next: Record<string, unknown> = { ...current, ...set.data };
  for (const field of unset) delete next[field];
  const plan = parsePlanInput(next);
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(set.data) as (keyof PlanFieldChanges)[]) {
    if (plan[key] !== undefined) fields[key] = plan[key];
  }
  if (plan.plan_status !== current.plan_status) {
    assertTransition(current.plan_status, plan.plan_status);
    fields.active_slot = activeSlotFor(plan, plan.plan_status);
  }
  const event = parseEvent(decision.event);
  return {
    expectStatus: current.plan_status,
    set: fields,
    unset,
    event: { event_type: eventType, actor: event.actor, data: event.data, timestamp: now },
  };
}
