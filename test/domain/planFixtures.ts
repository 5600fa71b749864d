import type { GateablePlan } from '../../src/domain/plan.js';

export const TENANT = 'tenant-1';
export const MEETING = 'REQUEST_RENEWAL_MEETING';
export const BRIEF = 'PREP_RENEWAL_BRIEF';
export const ESCALATE = 'ESCALATE_SUPPORT_RISK';

export type GateStep = GateablePlan['steps'][number];

export function step(
  step_id: string,
  action_type: string,
  sequence?: number,
  dependencies: string[] = [],
  constraints?: Record<string, unknown>,
): GateStep {
  return { step_id, action_type, sequence, dependencies, ...(constraints ? { constraints } : {}) };
}

export function planOf(steps: GateStep[], overrides: Partial<GateablePlan> = {}): GateablePlan {
  return {
    plan_id: 'plan-1',
    plan_type: 'RENEWAL_DEFENSE',
    tenant_id: TENANT,
    account_id: 'account-1',
    plan_status: 'DRAFT',
    steps,
    ...overrides,
  };
}

/** The three RENEWAL_DEFENSE steps in the default order, the brief depending on the meeting. */
export const validPlan = (): GateablePlan =>
  planOf([step('m', MEETING, 1), step('b', BRIEF, 2, ['m']), step('e', ESCALATE, 3)]);

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
