import { RevenuePlanV1Schema, type RevenuePlanV1 } from '../../domain/plan.js';
import type { PlanTypeConfig } from '../../domain/planTypeConfig.js';
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
  now: Date;
  newId: () => string;
}

/**
 * The DRAFT plan for a proposal: every id, status and date is set here, never taken from a
 * proposer. Steps get fresh step_ids, sequence 1..n in the given order, status PENDING, and a
 * rationale (when there is one) as their only constraint.
 */
export function assemblePlan(input: AssemblePlanInput): RevenuePlanV1 {
  const stepIds = input.steps.map(() => input.newId());
  const plan: RevenuePlanV1 = {
    plan_id: input.plan_id,
    plan_type: input.config.plan_type,
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
      ...(step.rationale === null ? {} : { constraints: { rationale: step.rationale } }),
    })),
    expires_at: new Date(input.now.getTime() + input.config.expires_at_days_from_creation * DAY_MS),
    created_at: new Date(input.now),
    updated_at: new Date(input.now),
    ...(input.created_by === undefined ? {} : { created_by: input.created_by }),
  };
  // A last check at the edge: a shape error here is a bug, better thrown than stored.
  return RevenuePlanV1Schema.parse(plan);
}
