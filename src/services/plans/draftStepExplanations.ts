import type { PlanTypeConfig } from '../../domain/planTypeConfig.js';
import { AppError } from '../../domain/errors.js';
import type { PlanStepV1, RevenuePlanV1 } from '../../domain/plan.js';
import { renewalInstant, scheduleSteps } from '../../domain/stepSchedule.js';
import { sanitizeText } from '../proposal/sanitizeText.js';
import { MAX_EXPIRY_DAYS, type UpdateDraftPlanInputParsed } from './apiInputs.js';

type StepInputParsed = NonNullable<UpdateDraftPlanInputParsed['steps']>[number];

/**
 * updateDraftPlan's explanation fields (rationale, evidence, dueAt, ownerRole) on the rebuilt
 * steps: what the input sets wins; a kept step (same step_id) keeps what it had; a new step gets
 * its owner and due date from the tenant's playbook schedule (`config`) and no rationale or evidence. A dueAt
 * outside [created_at, renewal date] (or more than MAX_EXPIRY_DAYS after creation) is
 * BAD_USER_INPUT; the gate then judges the order of the dates (STEP_ORDER_VIOLATION).
 */
export function withStepExplanations(
  plan: RevenuePlanV1,
  stepsIn: readonly StepInputParsed[],
  built: readonly PlanStepV1[],
  config: PlanTypeConfig | null,
): PlanStepV1[] {
  const before = new Map(plan.steps.map((s) => [s.step_id, s]));
  const scheduled = config
    ? scheduleSteps(config, built.map((s) => s.action_type), { created_at: plan.created_at, renewal_date: plan.renewal_date ?? null })
    : [];
  return built.map((step, i) => {
    const input = stepsIn[i]!;
    const kept = before.get(step.step_id);
    if (input.dueAt != null) checkDueAt(plan, input.dueAt, i);
    const rationale = input.rationale != null ? sanitizeText(input.rationale, 500) : kept?.rationale;
    const evidence = input.evidence != null ? input.evidence.map((e) => ({ source: e.source, index: e.index, field: e.field })) : (kept?.evidence ?? []);
    const due_at = input.dueAt ?? kept?.due_at ?? scheduled[i]?.due_at;
    const owner_role = input.ownerRole ?? kept?.owner_role ?? scheduled[i]?.owner_role;
    return {
      ...step,
      ...(rationale ? { rationale } : {}),
      evidence,
      ...(due_at ? { due_at } : {}),
      ...(owner_role ? { owner_role } : {}),
    };
  });
}

function checkDueAt(plan: RevenuePlanV1, dueAt: Date, index: number): void {
  const fields = [`input.steps.${index}.dueAt`];
  const created = plan.created_at.getTime();
  if (dueAt.getTime() < created) {
    throw new AppError('BAD_USER_INPUT', `input.steps[${index}].dueAt must not be before the plan's creation (${plan.created_at.toISOString()})`, { fields });
  }
  const renewal = renewalInstant(plan.renewal_date ?? null);
  if (renewal !== null && renewal > created && dueAt.getTime() > renewal) {
    throw new AppError('BAD_USER_INPUT', `input.steps[${index}].dueAt must be on or before the renewal date ${plan.renewal_date}`, { fields });
  }
  if (dueAt.getTime() - created > MAX_EXPIRY_DAYS * 86_400_000) {
    throw new AppError('BAD_USER_INPUT', `input.steps[${index}].dueAt must be within ${MAX_EXPIRY_DAYS} days of the plan's creation`, { fields });
  }
}
