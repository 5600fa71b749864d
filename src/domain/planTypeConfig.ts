import { RENEWAL_DEFENSE_STEP_ACTION_TYPES, type PlanType } from './enums.js';

/** Who owns a step and when it is due (see stepSchedule.ts). */
export interface StepSchedule {
  /** e.g. CSM, ACCOUNT_EXECUTIVE, SUPPORT_MANAGER. */
  owner_role: string;
  /** Days before the renewal date the step is due, when one is known (and later than creation). */
  due_days_before_renewal: number;
  /** Days after the plan's creation the step is due, when no renewal date is known. */
  due_days_after_creation: number;
}

/** What one plan type allows; read by the Policy Gate and the proposal generator. */
export interface PlanTypeConfig {
  plan_type: PlanType;
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
}

/** Static plan-type config (rendered in docs/rules-generator.md): deterministic and testable without a database. */
export const RENEWAL_DEFENSE_CONFIG: PlanTypeConfig = Object.freeze({
  plan_type: 'RENEWAL_DEFENSE',
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
});

const CONFIGS: ReadonlyMap<string, PlanTypeConfig> = new Map([[RENEWAL_DEFENSE_CONFIG.plan_type, RENEWAL_DEFENSE_CONFIG]]);

/** The config of a plan type, or null for anything unknown (exact, case-sensitive match). */
export function getPlanTypeConfig(planType: string): PlanTypeConfig | null {
  return CONFIGS.get(planType) ?? null;
}

/** Every configured plan type, in a stable order. */
export function listPlanTypeConfigs(): PlanTypeConfig[] {
  return [...CONFIGS.values()];
}
