import type { PlanType } from './enums.js';

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
}
