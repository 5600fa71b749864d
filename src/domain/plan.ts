import { z } from 'zod';
import { COMPLETION_REASONS, PLAN_STATUSES, PLAN_TYPES, STEP_STATUSES } from './enums.js';

/** Free-form constraints: a JSON object. */
export const ConstraintsSchema = z.record(z.string(), z.unknown());

/** PlanStepV1: identity is step_id; sequence is display/validation order (1-based). */
export const PlanStepV1Schema = z.object({
  step_id: z.string().min(1),
  action_type: z.string().min(1),
  status: z.enum(STEP_STATUSES),
  sequence: z.number().int().min(1),
  dependencies: z.array(z.string()),
  constraints: ConstraintsSchema.optional(),
});
export type PlanStepV1 = z.infer<typeof PlanStepV1Schema>;

/** RevenuePlanV1 as stored (snake_case, dates as Date). Store-only fields are stripped on parse. */
export const RevenuePlanV1Schema = z.object({
  plan_id: z.string().min(1),
  plan_type: z.enum(PLAN_TYPES),
  tenant_id: z.string().min(1),
  account_id: z.string().min(1),
  objective: z.string(),
  plan_status: z.enum(PLAN_STATUSES),
  steps: z.array(PlanStepV1Schema),
  constraints: ConstraintsSchema.optional(),
  expires_at: z.date(),
  created_at: z.date(),
  updated_at: z.date(),
  created_by: z.string().optional(),
  approved_at: z.date().optional(),
  approved_by: z.string().optional(),
  completed_at: z.date().optional(),
  aborted_at: z.date().optional(),
  expired_at: z.date().optional(),
  completion_reason: z.enum(COMPLETION_REASONS).optional(),
});
export type RevenuePlanV1 = z.infer<typeof RevenuePlanV1Schema>;

/**
 * The structural view of a plan the Policy Gate judges. It is wider than RevenuePlanV1 on
 * purpose: the gate must give INVALID_PLAN_TYPE for a type it does not know, not crash.
 */
export interface GateablePlan {
  plan_id: string;
  plan_type: string;
  tenant_id: string;
  account_id: string;
  plan_status?: string;
  expires_at?: Date;
  constraints?: Record<string, unknown>;
  steps: ReadonlyArray<{
    step_id: string;
    action_type: string;
    sequence?: number;
    dependencies?: readonly string[];
    constraints?: Record<string, unknown>;
  }>;
}
