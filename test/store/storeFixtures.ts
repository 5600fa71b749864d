import { randomUUID } from 'node:crypto';
import type { PlanStatus } from '../../src/domain/enums.js';
import { transitionFor } from '../../src/domain/lifecycleMatrix.js';
import type { RevenuePlanV1 } from '../../src/domain/plan.js';
import { decideStepMove, type StepMove } from '../../src/domain/stepProgress.js';
import type { StoreLogger } from '../../src/store/mongoErrors.js';
import type { PlanChangeInput, TransitionInput } from '../../src/store/PlanStore.js';

/** A valid DRAFT plan; override anything. */
export function draftPlan(overrides: Partial<RevenuePlanV1> = {}): RevenuePlanV1 {
  const now = overrides.updated_at ?? new Date();
  const stepA = randomUUID();
  return {
    plan_id: randomUUID(),
    plan_type: 'RENEWAL_DEFENSE',
    tenant_id: 't1',
    account_id: 'acc-1',
    objective: 'Keep the account through its renewal',
    plan_status: 'DRAFT',
    steps: [
      { step_id: stepA, action_type: 'PREP_RENEWAL_BRIEF', status: 'PENDING', sequence: 1, dependencies: [] },
      { step_id: randomUUID(), action_type: 'REQUEST_RENEWAL_MEETING', status: 'PENDING', sequence: 2, dependencies: [stepA], constraints: { channel: 'email' } },
    ],
    constraints: { max_touches: 3 },
    expires_at: new Date(now.getTime() + 30 * 86_400_000),
    created_at: now,
    updated_at: now,
    created_by: 'alice',
    ...overrides,
  };
}

/** A logger that keeps what it was told, for asserting that causes are logged. */
export function memoryLogger(): StoreLogger & { lines: { level: string; obj: object; msg: string }[] } {
  const lines: { level: string; obj: object; msg: string }[] = [];
  return {
    lines,
    warn: (obj, msg) => void lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => void lines.push({ level: 'error', obj, msg }),
  };
}

/** The AppError code a promise rejects with (fails the test when it resolves). */
export async function rejectionCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code ?? `not an AppError: ${String(e)}`;
  }
  throw new Error('expected a rejection');
}

export { sleep } from '../support/wait.js';


/** The lifecycle move from -> to of the plan, as PlanLifecycleService asks the store for it. */
export const transitionOf = (plan: RevenuePlanV1, from: PlanStatus, to: PlanStatus): TransitionInput => ({
  tenantId: plan.tenant_id,
  planId: plan.plan_id,
  from,
  to,
  event: { event_type: transitionFor(from, to)!.event_type, actor: 'arthur', data: {} },
});

/** The change StepProgressService makes for a step move (completing the plan when it is the last). */
export const stepMoveOf = (plan: RevenuePlanV1, stepId: string, move: StepMove): PlanChangeInput => ({
  tenantId: plan.tenant_id,
  planId: plan.plan_id,
  event_type: 'STEP_COMPLETED',
  decide: (current, now) => {
    const outcome = decideStepMove(current, stepId, move, now);
    const completion = outcome.completes_plan ? { plan_status: 'COMPLETED' as const, completed_at: now, completion_reason: 'all_steps_done' as const } : {};
    return { set: { ...completion, steps: outcome.steps, updated_at: now }, event: { actor: 'paula', data: outcome.data }, event_type: outcome.event_type };
  },
});
