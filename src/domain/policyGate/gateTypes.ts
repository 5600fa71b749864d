import type { GateReasonCode } from '../enums.js';
import type { GateablePlan } from '../plan.js';

export interface GateReason {
  code: GateReasonCode;
  message: string;
}

export interface ApprovalValidation {
  valid: boolean;
  reasons: GateReason[];
}

export interface ActivationInput {
  plan: GateablePlan;
  tenant_id: string;
  account_id: string;
  /** Ids of plans of the same tenant + account + plan_type that are ACTIVE now. */
  existing_active_plan_ids: readonly string[];
  /** Must be exactly `true`; anything else is PRECONDITIONS_UNMET. */
  preconditions_met: unknown;
}

export interface ActivationDecision {
  can_activate: boolean;
  reasons: GateReason[];
}

/**
 * Tenant policy rules for the gate; every rule is off unless set.
 * - human_touch_action_types: steps of these types need `constraints.human_touch_owner`
 *   (a person who will make the contact) or the gate says HUMAN_TOUCH_REQUIRED.
 * - elevated_risk_action_types: steps of these types need the approver to hold
 *   `elevated_approver_role`, or the gate says RISK_ELEVATED.
 */
export interface TenantGatePolicy {
  human_touch_action_types?: readonly string[];
  elevated_risk_action_types?: readonly string[];
  elevated_approver_role?: string;
}

export interface ApprovalContext {
  /** The tenant's policy: its published playbook's gate_policy (docs/playbooks.md). */
  policy?: TenantGatePolicy;
  /** Roles of the person approving; used by the elevated-risk rule. */
  approver_roles?: readonly string[];
}

/**
 * A reason as the API reports it: a gate reason, or INVALID_TRANSITION when the plan's status
 * (or its expiry) does not allow the move at all (planActivationCheck says what activatePlan
 * would answer; that one answers it as an INVALID_TRANSITION error).
 */
export interface ReportedReason {
  code: GateReasonCode | 'INVALID_TRANSITION';
  message: string;
}
