import { getPlanTypeConfig, listPlanTypeConfigs } from '../planTypeConfig.js';
import type { GateReasonCode } from '../enums.js';
import { AppError } from '../errors.js';
import type { GateablePlan } from '../plan.js';
import type {
  ActivationDecision,
  ActivationInput,
  ApprovalContext,
  ApprovalValidation,
  GateReason,
} from './gateTypes.js';
import type { PlanTypeConfig } from '../planTypeConfig.js';
import { runRules, viewPlan, type GateRule } from './gateRule.js';
import { STRUCTURE_RULES } from './structureRules.js';
import { TENANT_POLICY_RULES, type ApprovalRuleInput } from './tenantPolicyRules.js';

/**
 * The Plan Policy Gate: pure and deterministic (no I/O, no clock, inputs never mutated). Every
 * blocker is reported, not only the first. Reasons come in rule order (the lists below, which
 * docs/policy-gate.md is generated from) and, within a rule, in step order: by `sequence`, ties
 * by position in the array.
 */

export const GATE_NAMES = ['validateForApproval', 'evaluateCanActivate'] as const;
export type GateName = (typeof GATE_NAMES)[number];

const PLAN_TYPE_RULE: GateRule<{ plan: GateablePlan; config: PlanTypeConfig | null }> = {
  code: 'INVALID_PLAN_TYPE',
  rule: `plan_type has a plan-type config (exact, case-sensitive match; configured: ${listPlanTypeConfigs()
    .map((c) => c.plan_type)
    .join(', ')}).`,
  check: ({ plan, config }) => (config === null ? [`Unknown plan type ${JSON.stringify(plan.plan_type)}`] : []),
};

const APPROVAL_RULES: readonly GateRule<ApprovalRuleInput>[] = [PLAN_TYPE_RULE, ...STRUCTURE_RULES, ...TENANT_POLICY_RULES];

type ActivationRuleInput = ActivationInput & { config: PlanTypeConfig | null };

const ACTIVATION_RULES: readonly GateRule<ActivationRuleInput>[] = [
  PLAN_TYPE_RULE,
  {
    code: 'CONFLICT_ACTIVE_PLAN',
    rule: 'No other plan of the same tenant, account and plan type is ACTIVE.',
    check: ({ plan, existing_active_plan_ids }) => {
      // Sorted and de-duplicated so the message does not depend on the order a store returned them in.
      const others = [...new Set(existing_active_plan_ids)].filter((id) => id !== plan.plan_id).sort();
      return others.length === 0
        ? []
        : [`Another plan is already ACTIVE for this account and plan type: ${others.join(', ')}`];
    },
  },
  {
    code: 'PRECONDITIONS_UNMET',
    rule: 'preconditions_met is exactly true (false or a non-boolean value fails).',
    check: ({ preconditions_met }) =>
      preconditions_met === true
        ? []
        : [`Activation preconditions are not met (preconditions_met is ${describeValue(preconditions_met)}, not true)`],
  },
];

/**
 * INVALID_PLAN_TYPE, then the structural STEP_ORDER_VIOLATION rules. `config`: the tenant's
 * playbook version for the plan's type (the built-in one when not given).
 */
export function validateStructure(plan: GateablePlan, config: PlanTypeConfig | null = getPlanTypeConfig(plan.plan_type)): GateReason[] {
  return runRules([PLAN_TYPE_RULE, ...STRUCTURE_RULES], viewPlan(plan, configFor(plan, config)));
}

/**
 * Structure, then the tenant's policy rules. Callers pass only their own tenant's plans, so a
 * tenant mismatch is a programming error and throws FORBIDDEN rather than becoming a reason.
 */
export function validateForApproval(
  plan: GateablePlan,
  tenantId: string,
  context: ApprovalContext = {},
  config: PlanTypeConfig | null = getPlanTypeConfig(plan.plan_type),
): ApprovalValidation {
  assertSameTenant(plan, tenantId);
  const reasons = runRules(APPROVAL_RULES, { ...viewPlan(plan, configFor(plan, config)), context });
  return { valid: reasons.length === 0, reasons };
}

/** Plan type, conflicting ACTIVE plans, preconditions. Structure was judged at approval. */
export function evaluateCanActivate(input: ActivationInput): ActivationDecision {
  assertSameTenant(input.plan, input.tenant_id);
  const reasons = runRules(ACTIVATION_RULES, { ...input, config: getPlanTypeConfig(input.plan.plan_type) });
  return { can_activate: reasons.length === 0, reasons };
}

export interface GateRuleRow {
  gate: GateName;
  code: GateReasonCode;
  rule: string;
}

/** Every rule of each gate, in the order its reasons are reported. */
export function describeGateRules(): GateRuleRow[] {
  const rows = (gate: GateName, rules: readonly GateRule<never>[]): GateRuleRow[] =>
    rules.map(({ code, rule }) => ({ gate, code, rule }));
  return [...rows('validateForApproval', APPROVAL_RULES), ...rows('evaluateCanActivate', ACTIVATION_RULES)];
}

/** A config only counts for its own plan type (a plan of an unknown type has none). */
const configFor = (plan: GateablePlan, config: PlanTypeConfig | null): PlanTypeConfig | null =>
  config !== null && config.plan_type === plan.plan_type ? config : null;

function assertSameTenant(plan: GateablePlan, tenantId: string): void {
  if (plan.tenant_id !== tenantId) {
    throw new AppError('FORBIDDEN', 'The plan belongs to another tenant', { plan_id: plan.plan_id });
  }
}

const describeValue = (value: unknown): string =>
  typeof value === 'boolean' ? String(value) : value === null ? 'null' : `a ${typeof value}`;
