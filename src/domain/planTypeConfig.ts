import { RENEWAL_DEFENSE_STEP_ACTION_TYPES, type PlanType, type SupportSeverity } from './enums.js';

/** Who owns a step and when it is due (see stepSchedule.ts). */
export interface StepSchedule {
  /** e.g. CSM, ACCOUNT_EXECUTIVE, SUPPORT_MANAGER. */
  owner_role: string;
  /** Days before the renewal date the step is due, when one is known (and later than creation). */
  due_days_before_renewal: number;
  /** Days after the plan's creation the step is due, when no renewal date is known. */
  due_days_after_creation: number;
}

/**
 * The gate's tenant policy rules (docs/policy-gate.md); each is off while its list is empty.
 * Steps of human_touch_action_types need constraints.human_touch_owner (HUMAN_TOUCH_REQUIRED);
 * steps of elevated_risk_action_types need an approver holding elevated_approver_role (RISK_ELEVATED).
 */
export interface GatePolicy {
  human_touch_action_types: readonly string[];
  elevated_risk_action_types: readonly string[];
  elevated_approver_role: string;
}

/** The rules generator's thresholds (docs/rules-generator.md). */
export interface RulesThresholds {
  /** A renewal this many days away or nearer asks for a renewal meeting. */
  renewal_window_days: number;
  /** A usage drop of this many percent or more is a risk. */
  usage_drop_percent: number;
  /** No new meeting request within this many days of the last one. */
  meeting_cooldown_days: number;
  /** A support risk of this severity or above is escalated. */
  escalation_min_severity: SupportSeverity;
}

/**
 * What one plan type allows in one tenant's playbook version; read by the Policy Gate, the
 * proposal generators and the scheduler. Version 0 is the built-in default below; a tenant's
 * published versions (docs/playbooks.md) replace it.
 */
export interface PlanTypeConfig {
  plan_type: PlanType;
  /** The playbook version this config is (0: the built-in default). */
  version: number;
  allowed_step_action_types: readonly string[];
  /** Recommended order, enforced as relative order only. */
  default_sequence: readonly string[];
  /** Placeholders: {account_id}, {renewal_date}. */
  objective_template: string;
  expires_at_days_from_creation: number;
  /** What each step means, for people and for the LLM prompt. */
  step_descriptions: Readonly<Record<string, string>>;
  /** Owner and due offsets per action type; offsets follow default_sequence (dates never decrease along it). */
  step_schedule: Readonly<Record<string, StepSchedule>>;
  gate_policy: GatePolicy;
  rules: RulesThresholds;
}

export const DEFAULT_ELEVATED_APPROVER_ROLE = 'plan-approver-elevated';

/** The built-in RENEWAL_DEFENSE config: version 0 of every tenant's playbook, and what tests use without a database. */
export const RENEWAL_DEFENSE_CONFIG: PlanTypeConfig = Object.freeze({
  plan_type: 'RENEWAL_DEFENSE',
  version: 0,
  allowed_step_action_types: Object.freeze([...RENEWAL_DEFENSE_STEP_ACTION_TYPES]),
  default_sequence: Object.freeze(['REQUEST_RENEWAL_MEETING', 'PREP_RENEWAL_BRIEF', 'ESCALATE_SUPPORT_RISK']),
  objective_template: 'Secure the renewal of account {account_id} before {renewal_date}',
  expires_at_days_from_creation: 30,
  step_descriptions: Object.freeze({
    REQUEST_RENEWAL_MEETING: 'Ask the customer for a renewal conversation with the decision makers.',
    PREP_RENEWAL_BRIEF: 'Prepare an internal brief: value delivered, usage, risks, commercial position.',
    ESCALATE_SUPPORT_RISK: 'Escalate open support problems that threaten the renewal to the support lead.',
  }),
  // The meeting first (it needs the most lead time), the brief a week before it is usually held,
  // the escalation while there is still time to fix what the customer will raise.
  step_schedule: Object.freeze({
    REQUEST_RENEWAL_MEETING: Object.freeze({ owner_role: 'ACCOUNT_EXECUTIVE', due_days_before_renewal: 60, due_days_after_creation: 7 }),
    PREP_RENEWAL_BRIEF: Object.freeze({ owner_role: 'CSM', due_days_before_renewal: 45, due_days_after_creation: 10 }),
    ESCALATE_SUPPORT_RISK: Object.freeze({ owner_role: 'SUPPORT_MANAGER', due_days_before_renewal: 30, due_days_after_creation: 14 }),
  }),
  // Every tenant policy rule off until a tenant's playbook turns it on.
  gate_policy: Object.freeze({
    human_touch_action_types: Object.freeze([]),
    elevated_risk_action_types: Object.freeze([]),
    elevated_approver_role: DEFAULT_ELEVATED_APPROVER_ROLE,
  }),
  rules: Object.freeze({ renewal_window_days: 120, usage_drop_percent: 20, meeting_cooldown_days: 14, escalation_min_severity: 'MEDIUM' }),
});

const CONFIGS: ReadonlyMap<string, PlanTypeConfig> = new Map([[RENEWAL_DEFENSE_CONFIG.plan_type, RENEWAL_DEFENSE_CONFIG]]);

/** The built-in config (version 0) of a plan type, or null for anything unknown (exact, case-sensitive match). */
export function getPlanTypeConfig(planType: string): PlanTypeConfig | null {
  return CONFIGS.get(planType) ?? null;
}

/** Every configured plan type, in a stable order. */
export function listPlanTypeConfigs(): PlanTypeConfig[] {
  return [...CONFIGS.values()];
}
