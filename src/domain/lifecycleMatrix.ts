import { TERMINAL_PLAN_STATUSES, type LedgerEventType, type PlanStatus } from './enums.js';
import type { RevenuePlanV1 } from './plan.js';
import type { GateName } from './policyGate/PlanPolicyGate.js';

/** Timestamp fields a transition stamps (updated_at is stamped by every write, so it is not listed). */
export type TransitionTimestampField = Extract<keyof RevenuePlanV1, 'approved_at' | 'completed_at' | 'aborted_at' | 'expired_at'>;

export interface LifecycleTransition {
  from: PlanStatus;
  to: PlanStatus;
  event_type: LedgerEventType;
  sets: readonly TransitionTimestampField[];
  /** The Policy Gate check that must pass first, if any. */
  gate: GateName | null;
}

/**
 * The plan lifecycle (docs/lifecycle.md; an APPROVED plan past its expiry is EXPIRED too, as an
 * ACTIVE one is: docs/lifecycle.md, "Expiry"): only these transitions exist; everything else is rejected.
 */
export const LIFECYCLE_TRANSITIONS: readonly LifecycleTransition[] = frozen([
  { from: 'DRAFT', to: 'APPROVED', event_type: 'PLAN_APPROVED', sets: ['approved_at'], gate: 'validateForApproval' },
  { from: 'APPROVED', to: 'ACTIVE', event_type: 'PLAN_ACTIVATED', sets: [], gate: 'evaluateCanActivate' },
  { from: 'APPROVED', to: 'ABORTED', event_type: 'PLAN_ABORTED', sets: ['aborted_at'], gate: null },
  { from: 'APPROVED', to: 'EXPIRED', event_type: 'PLAN_EXPIRED', sets: ['expired_at'], gate: null },
  { from: 'ACTIVE', to: 'PAUSED', event_type: 'PLAN_PAUSED', sets: [], gate: null },
  { from: 'ACTIVE', to: 'COMPLETED', event_type: 'PLAN_COMPLETED', sets: ['completed_at'], gate: null },
  { from: 'ACTIVE', to: 'ABORTED', event_type: 'PLAN_ABORTED', sets: ['aborted_at'], gate: null },
  { from: 'ACTIVE', to: 'EXPIRED', event_type: 'PLAN_EXPIRED', sets: ['expired_at'], gate: null },
  { from: 'PAUSED', to: 'ACTIVE', event_type: 'PLAN_RESUMED', sets: [], gate: 'evaluateCanActivate' },
  { from: 'PAUSED', to: 'ABORTED', event_type: 'PLAN_ABORTED', sets: ['aborted_at'], gate: null },
]);

/** Frozen all the way down: callers get these rows (and their `sets`) by reference. */
function frozen(rows: LifecycleTransition[]): readonly LifecycleTransition[] {
  return Object.freeze(rows.map((row) => Object.freeze({ ...row, sets: Object.freeze([...row.sets]) })));
}

const findTransition = (from: PlanStatus, to: PlanStatus): LifecycleTransition | undefined =>
  LIFECYCLE_TRANSITIONS.find((t) => t.from === from && t.to === to);

/** False for anything not in the matrix, including a same-status move and any move out of a terminal status. */
export function canTransition(from: PlanStatus, to: PlanStatus): boolean {
  return findTransition(from, to) !== undefined;
}

/** What a transition records and requires, or null when it is not allowed. */
export function transitionFor(
  from: PlanStatus,
  to: PlanStatus,
): Pick<LifecycleTransition, 'event_type' | 'sets' | 'gate'> | null {
  const transition = findTransition(from, to);
  return transition === undefined ? null : { event_type: transition.event_type, sets: transition.sets, gate: transition.gate };
}

export function isTerminal(status: PlanStatus): boolean {
  return TERMINAL_PLAN_STATUSES.includes(status);
}

/** Target statuses reachable from `status` in one step, in matrix order. */
export function allowedTransitionsFrom(status: PlanStatus): PlanStatus[] {
  return LIFECYCLE_TRANSITIONS.filter((t) => t.from === status).map((t) => t.to);
}
