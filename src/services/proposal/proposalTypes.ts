import { z } from 'zod';
import type { ProposalSource } from '../../domain/enums.js';
import type { RevenuePlanV1, StepEvidence } from '../../domain/plan.js';
import type { DroppedEvidence } from './checkEvidence.js';
import type { InputWarning } from './inputWarnings.js';

/** Bounds on what a caller may hand the generator; the API's body limit comes first. */
export const MAX_CONTEXT_ITEMS = 500;
const MAX_ID_CHARS = 128;

const JsonObject = z.record(z.string(), z.unknown());

/**
 * What the generator is asked for. Context (posture, signals, history, tenant goals) is
 * untrusted: it is only ever read through the parsers in accountFacts.ts or shown to the model
 * as data. JSON null counts as absent.
 */
export const PlanProposalInputSchema = z.object({
  tenant_id: z.string().min(1).max(MAX_ID_CHARS),
  account_id: z.string().min(1).max(MAX_ID_CHARS),
  plan_type: z.string(),
  posture: JsonObject.nullish().transform((v) => v ?? undefined),
  signals: z.array(z.unknown()).max(MAX_CONTEXT_ITEMS).nullish().transform((v) => v ?? undefined),
  history: z.array(z.unknown()).max(MAX_CONTEXT_ITEMS).nullish().transform((v) => v ?? undefined),
  tenant_goals: JsonObject.nullish().transform((v) => v ?? undefined),
  /** A caller may fix the plan id, e.g. derived from an idempotency key. */
  plan_id: z.string().min(1).max(MAX_ID_CHARS).optional(),
  created_by: z.string().min(1).max(256).optional(),
});

export interface PlanProposalInput {
  tenant_id: string;
  account_id: string;
  plan_type: string;
  posture?: Record<string, unknown>;
  signals?: unknown[];
  history?: unknown[];
  tenant_goals?: Record<string, unknown>;
  plan_id?: string;
  created_by?: string;
}

/**
 * Something removed while turning a proposal into a plan. `reason` is a stable code (see
 * DROP_REASONS). The dependency_* and invalid_dependency codes mean the step was kept and only
 * that dependency edge was removed.
 */
export interface DroppedStep {
  action_type: string;
  reason: string;
}

export const DROP_REASONS = [
  'malformed_step',
  'disallowed_action_type',
  'duplicate_action_type',
  'too_many_steps',
  'invalid_dependency',
  'dangling_dependency',
  'dependency_on_dropped_step',
  'self_dependency',
  'dependency_cycle',
  'dependency_against_sequence',
  'too_many_dependencies',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** A step as a proposer suggests it, before ids exist: dependencies are indexes into the same list. */
export interface ProposedStep {
  action_type: string;
  /** Indexes of earlier steps of the same list. */
  depends_on: number[];
  rationale: string | null;
  /** Input elements the step rests on; each points at a real element. */
  evidence: StepEvidence[];
}

/** A proposal ready to become a plan: allowed steps in default-sequence order, acyclic, deduplicated. */
export interface ProposalDraft {
  /** Empty when the proposer gave none; the generator then fills the objective template. */
  objective: string;
  steps: ProposedStep[];
  dropped_steps: DroppedStep[];
  /** Evidence removed from kept steps because it points at nothing. */
  dropped_evidence: DroppedEvidence[];
}

export interface PlanProposalResult {
  /** Always DRAFT. */
  plan: RevenuePlanV1;
  proposal_id: string;
  source: ProposalSource;
  dropped_steps: DroppedStep[];
  /** The `data` of the PLAN_CREATED ledger entry. */
  audit: Record<string, unknown>;
  fallback_reason?: string;
  /** What in the input was ignored or could not be read. */
  warnings: InputWarning[];
  dropped_evidence: DroppedEvidence[];
}
