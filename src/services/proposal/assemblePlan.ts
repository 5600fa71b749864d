import type { RevenuePlanV1 } from '../../domain/plan.js';
import type { PlanTypeConfig } from '../../domain/planTypeConfig.js';
import { scheduleSteps } from '../../domain/stepSchedule.js';
import type { ProposedStep } from './proposalTypes.js';

const DAY_MS = 86_400_000;

export interface AssemblePlanInput {
  config: PlanTypeConfig;
  plan_id: string;
  tenant_id: string;
  account_id: string;
  objective: string;
  /** In plan order; dependencies are indexes of earlier steps. */
  steps: readonly ProposedStep[];
  created_by?: string;
  /** The renewal day (YYYY-MM-DD) due dates are anchored on; null when none is known. */
  renewal_date: string | null;
  now: Date;
  newId: () => string;
}

/**
 * The DRAFT plan for a proposal: every id, status and date is set here, never taken from a
 * proposer. Steps get fresh step_ids, sequence 1..n in the given order, status PENDING, their
 * rationale and evidence, and a due date and owner from the plan type's schedule.
 */
export function assemblePlan(input: AssemblePlanInput): RevenuePlanV1 {
  const stepIds = input.steps.map(() => input.newId());
  const schedule = scheduleSteps(
    input.config,
    input.steps.map((s) => s.action_type),
    { created_at: input.now, renewal_date: input.renewal_date },
  );
  const plan: RevenuePlanV1 = {
    plan_id: input.plan_id,
    plan_type: input.config.plan_type,
    plan_type_config_version: input.config.version,
    tenant_id: input.tenant_id,
    account_id: input.account_id,
    objective: input.objective,
    plan_status: 'DRAFT',
    steps: input.steps.map((step, i) => ({
      step_id: stepIds[i]!,
      action_type: step.action_type,
      status: 'PENDING',
      sequence: i + 1,
      dependencies: step.depends_on.map((d) => stepIds[d]!),
      ...(step.rationale === null ? {} : { rationale: step.rationale }),
      evidence: step.evidence.map((e) => ({ ...e })),
      due_at: schedule[i]!.due_at,
      owner_role: schedule[i]!.owner_role,
    })),
    expires_at: new Date(input.now.getTime() + input.config.expires_at_days_from_creation * DAY_MS),
    created_at: new Date(input.now),
    updated_at: new Date(input.now),
    ...(input.created_by === undefined ? {} : { created_by: input.created_by }),
    ...(input.renewal_date === null ? {} : { renewal_date: input.renewal_date }),
  };
  // Checked once, where it is stored: PlanStore.createPlan parses every plan it is given.
  return plan;
}
