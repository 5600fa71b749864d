import type { PlanStatus } from './enums.js';
import type { RevenuePlanV1 } from './plan.js';
import type { ActivationInput, GateReason, ReportedReason } from './policyGate/gateTypes.js';
import { evaluateCanActivate } from './policyGate/PlanPolicyGate.js';

// One decision for "may this plan become ACTIVE now?", shared by activatePlan / resumePlan
// (which act on it) and planActivationCheck (which reports it), so the two cannot disagree.
// Pure: the caller supplies the clock and the account's other ACTIVE plans (already expired
// where due, so an expired plan never blocks another).

/** Statuses that a plan past its expires_at leaves for EXPIRED (an expired plan never reads ACTIVE or APPROVED: docs/lifecycle.md, "Expiry"). */
export const EXPIRING_STATUSES: readonly PlanStatus[] = Object.freeze(['APPROVED', 'ACTIVE']);

/** True when the plan is ACTIVE or APPROVED and its expires_at is not after `now`. */
export function isDueToExpire(plan: Pick<RevenuePlanV1, 'plan_status' | 'expires_at'>, now: Date): boolean {
  return EXPIRING_STATUSES.includes(plan.plan_status) && plan.expires_at.getTime() <= now.getTime();
}

/** activatePlan moves APPROVED to ACTIVE; resumePlan moves PAUSED to ACTIVE. */
export type ActivationVerb = 'activate' | 'resume';

const SOURCE_STATUS: Readonly<Record<ActivationVerb, PlanStatus>> = Object.freeze({ activate: 'APPROVED', resume: 'PAUSED' });
const PARTICIPLE: Readonly<Record<ActivationVerb, string>> = Object.freeze({ activate: 'activated', resume: 'resumed' });

/** Why the lifecycle forbids the move outright: the mutation throws it as an INVALID_TRANSITION error. */
export interface LifecycleRefusal {
  message: string;
  details: Record<string, unknown>;
}

export type ActivationVerdict =
  /** The plan's status or its expiry rules the move out; the gate is not asked. */
  | { kind: 'lifecycle'; refusal: LifecycleRefusal }
  /** The status allows the move; the gate decides (refusals are data). */
  | { kind: 'gate'; can_activate: boolean; reasons: GateReason[] };

export interface ActivationRequest extends Omit<ActivationInput, 'plan'> {
  plan: RevenuePlanV1;
  now: Date;
}

/** Why the plan's status or expiry rules out the move (before any gate rule), or null when they allow it. */
export function activationRefusal(verb: ActivationVerb, plan: Pick<RevenuePlanV1, 'plan_status' | 'expires_at'>, now: Date): LifecycleRefusal | null {
  if (plan.plan_status !== SOURCE_STATUS[verb]) {
    const hint = verb === 'activate' && plan.plan_status === 'PAUSED' ? ' (a PAUSED plan is resumed with resumePlan)' : '';
    return { message: `cannot ${verb} a plan that is ${plan.plan_status}${hint}`, details: { status: plan.plan_status } };
  }
  if (plan.expires_at.getTime() <= now.getTime()) {
    const expiredAt = plan.expires_at.toISOString();
    return { message: `the plan expired at ${expiredAt} and can no longer be ${PARTICIPLE[verb]}`, details: { expiredAt } };
  }
  return null;
}

/** The status and expiry first (activationRefusal), then the gate (evaluateCanActivate). */
export function decideActivation(verb: ActivationVerb, request: ActivationRequest): ActivationVerdict {
  const { now, ...input } = request;
  const refusal = activationRefusal(verb, input.plan, now);
  if (refusal) return { kind: 'lifecycle', refusal };
  const decision = evaluateCanActivate(input);
  return { kind: 'gate', can_activate: decision.can_activate, reasons: decision.reasons };
}

/** The verdict as planActivationCheck reports it: a lifecycle refusal becomes its one INVALID_TRANSITION reason. */
export function reportActivation(verdict: ActivationVerdict): { can_activate: boolean; reasons: ReportedReason[] } {
  if (verdict.kind === 'lifecycle') return { can_activate: false, reasons: [{ code: 'INVALID_TRANSITION', message: verdict.refusal.message }] };
  return { can_activate: verdict.can_activate, reasons: verdict.reasons };
}
