import type { PlanType } from './enums.js';

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
