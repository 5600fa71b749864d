import type { ApprovalContext } from './gateTypes.js';
import type { GateRule, PlanView } from './gateRule.js';

import { DEFAULT_ELEVATED_APPROVER_ROLE } from '../planTypeConfig.js';

export { DEFAULT_ELEVATED_APPROVER_ROLE };

export type ApprovalRuleInput = PlanView & { context: ApprovalContext };

/** Tenant policy rules for approval; each is off unless the tenant's policy lists action types. */
export const TENANT_POLICY_RULES: readonly GateRule<ApprovalRuleInput>[] = [
  {
    code: 'HUMAN_TOUCH_REQUIRED',
    rule:
      "A step whose action_type is in the playbook's gatePolicy.humanTouchActionTypes names a person in constraints.human_touch_owner (a non-blank string).",
    check: ({ steps, label, context }) => {
      const types = context.policy?.human_touch_action_types ?? [];
      return steps
        .filter((s) => types.includes(s.action_type) && !hasText(s.constraints?.human_touch_owner))
        .map((s) => `Step ${label(s)} needs a human owner: set constraints.human_touch_owner to the person who makes the contact`);
    },
  },
  {
    code: 'RISK_ELEVATED',
    rule:
      "A step whose action_type is in the playbook's gatePolicy.elevatedRiskActionTypes needs an approver holding " +
      `gatePolicy.elevatedApproverRole (built-in ${DEFAULT_ELEVATED_APPROVER_ROLE}).`,
    check: ({ steps, label, context }) => {
      const types = context.policy?.elevated_risk_action_types ?? [];
      const role = context.policy?.elevated_approver_role ?? DEFAULT_ELEVATED_APPROVER_ROLE;
      if (context.approver_roles?.includes(role)) return [];
      return steps
        .filter((s) => types.includes(s.action_type))
        .map((s) => `Step ${label(s)} is elevated risk: the approver needs the role ${role}`);
    },
  },
];

const hasText = (value: unknown): boolean => typeof value === 'string' && value.trim() !== '';
