import { z } from 'zod';
import { COMPLETION_REASONS, PLAN_STATUSES, PLAN_TYPES, STEP_STATUSES } from './enums.js';

/** Free-form constraints: a JSON object. */
export const ConstraintsSchema = z.record(z.string(), z.unknown());

export const EVIDENCE_SOURCES = ['SIGNAL', 'POSTURE', 'HISTORY', 'TENANT_GOALS'] as const;
export type EvidenceSource = (typeof EVIDENCE_SOURCES)[number];

/** The longest step rationale, in characters (code points). */
export const MAX_STEP_RATIONALE_CHARS = 500;
/**
 * Events a plan's chain may hold while it is a DRAFT (its creation and its updates): past it,
 * updateDraftPlan is a CONFLICT. Keeps verifyPlanLedger and a plan's story bounded reads.
 */
export const MAX_DRAFT_EVENTS = 500;
export const MAX_EVIDENCE_PER_STEP = 10;
export const MAX_EVIDENCE_FIELD_CHARS = 64;
/** A step's assignee is a token subject; its longest form, in characters. */
export const MAX_ASSIGNEE_CHARS = 128;
/** The longest note or reason recorded with a step move, in characters. */
export const MAX_STEP_NOTE_CHARS = 1000;

/**
 * What a step rests on: signals[index], history[index], posture[field] or tenant_goals[field];
 * for SIGNAL and HISTORY, `field` may name a field of the indexed item (docs/proposals.md, "Explained
 * proposals"). Absent parts are null, so the stored form (and its hash) has one shape.
 */
export const StepEvidenceSchema = z.object({
  source: z.enum(EVIDENCE_SOURCES),
  index: z.number().int().min(0).nullable(),
  field: z.string().min(1).max(MAX_EVIDENCE_FIELD_CHARS).nullable(),
});
export type StepEvidence = z.infer<typeof StepEvidenceSchema>;

/** PlanStepV1: identity is step_id; sequence is display/validation order (1-based). */
export const PlanStepV1Schema = z.object({
  step_id: z.string().min(1),
  action_type: z.string().min(1),
  status: z.enum(STEP_STATUSES),
  sequence: z.number().int().min(1),
  dependencies: z.array(z.string()),
  constraints: ConstraintsSchema.optional(),
  /** Why the step is there, in one sentence. Plans proposed before explained proposals lack it. */
  rationale: z.string().max(MAX_STEP_RATIONALE_CHARS * 2).optional(),
  evidence: z.array(StepEvidenceSchema).max(MAX_EVIDENCE_PER_STEP).optional(),
  due_at: z.date().optional(),
  owner_role: z.string().min(1).max(64).optional(),
  /** Work on the step (docs/steps.md): when someone started it, when it reached DONE, SKIPPED or FAILED. */
  started_at: z.date().optional(),
  completed_at: z.date().optional(),
  /** The token subject working the step. */
  assignee: z.string().min(1).max(MAX_ASSIGNEE_CHARS).optional(),
  /** The note given with completeStep, or the reason given with skipStep / failStep. */
  note: z.string().max(MAX_STEP_NOTE_CHARS).optional(),
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
  /** The renewal day (YYYY-MM-DD) the steps' due dates were anchored on, when one was known. */
  renewal_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
  /** The tenant's playbook version the plan was proposed under (absent: before playbooks, version 0). */
  plan_type_config_version: z.number().int().min(0).optional(),
  approved_at: z.date().optional(),
  approved_by: z.string().optional(),
  completed_at: z.date().optional(),
  aborted_at: z.date().optional(),
  expired_at: z.date().optional(),
  completion_reason: z.enum(COMPLETION_REASONS).optional(),
});
export type RevenuePlanV1 = z.infer<typeof RevenuePlanV1Schema>;

/**
 * A plan as the plan lists read it: every field but its steps, the bulk of a plan (rationale,
 * evidence); a client that asks a listed plan for them gets them read by id.
 */
export const PlanHeadSchema = RevenuePlanV1Schema.omit({ steps: true });
export type PlanHead = z.infer<typeof PlanHeadSchema> & { steps?: undefined };
/** What the API's Plan resolves from: a whole plan, or a list's head. */
export type PlanView = RevenuePlanV1 | PlanHead;

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
    due_at?: Date;
  }>;
}
