import type { ProposalSource } from '../../domain/enums.js';
import type { RevenuePlanV1 } from '../../domain/plan.js';
import type { DroppedEvidence } from './checkEvidence.js';
import type { InputSummary } from './inputSummary.js';
import type { InputWarning } from './inputWarnings.js';
import type { DroppedStep } from './proposalTypes.js';

export const PROPOSAL_TRIGGER = 'proposal_generated';

export interface ProposalAuditInput {
  proposal_id: string;
  plan: RevenuePlanV1;
  source: ProposalSource;
  /** Set when a model was asked, even if its answer was not used. */
  model: string | null;
  prompt_version: string | null;
  rules_version: string | null;
  input_summary: InputSummary;
  dropped_steps: readonly DroppedStep[];
  dropped_evidence: readonly DroppedEvidence[];
  warnings: readonly InputWarning[];
  fallback_reason: string | null;
  prompt_truncated: readonly string[];
}

/**
 * The `data` of the PLAN_CREATED ledger entry: why the plan exists and what it was made from.
 * Absent values are null, never undefined, so the stored entry (and its hash) has one form.
 */
export function buildProposalAudit(input: ProposalAuditInput): Record<string, unknown> {
  const { plan } = input;
  return {
    proposal_id: input.proposal_id,
    plan_id: plan.plan_id,
    plan_type: plan.plan_type,
    tenant_id: plan.tenant_id,
    account_id: plan.account_id,
    objective: plan.objective,
    trigger: PROPOSAL_TRIGGER,
    source: input.source,
    model: input.model,
    prompt_version: input.prompt_version,
    rules_version: input.rules_version,
    steps: plan.steps.map((s) => ({
      step_id: s.step_id,
      action_type: s.action_type,
      sequence: s.sequence,
      rationale: s.rationale ?? null,
      evidence: (s.evidence ?? []).map((e) => ({ ...e })),
      due_at: s.due_at?.toISOString() ?? null,
      owner_role: s.owner_role ?? null,
    })),
    renewal_date: plan.renewal_date ?? null,
    // The tenant's playbook version it was proposed under (docs/playbooks.md).
    plan_type_config_version: plan.plan_type_config_version ?? 0,
    input_summary: input.input_summary,
    dropped_steps: input.dropped_steps.map((d) => ({ ...d })),
    dropped_evidence: input.dropped_evidence.map((d) => ({ ...d })),
    warnings: input.warnings.map((w) => ({ ...w })),
    fallback_reason: input.fallback_reason,
    prompt_truncated: [...input.prompt_truncated],
    created_by: plan.created_by ?? null,
  };
}
