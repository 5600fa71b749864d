import { TERMINAL_PLAN_STATUSES, type PlanStatus } from './enums.js';
import type { PlanStepV1, RevenuePlanV1 } from './plan.js';

// Who has work on a plan and what is late (docs/steps.md): read-side rules, and the plain fields
// the plan document keeps so that an index serves "plans with overdue work" and "plans with
// work assigned to X" (the embedded store serves top-level scalar fields, not arrays).

/** A PENDING step of a plan in one of these statuses can be overdue (its work is due). */
export const DUE_PLAN_STATUSES: readonly PlanStatus[] = Object.freeze(['APPROVED', 'ACTIVE']);

/**
 * How many people a plan's open steps can be assigned to: the plan document keeps one indexed
 * field per assignee (open_assignee_1..N). A plan type's steps have distinct action types, and
 * RENEWAL_DEFENSE has three.
 */
export const MAX_OPEN_ASSIGNEES = 3;

/** The plan document's fields holding its open steps' assignees, one each (absent ones null). */
export const OPEN_ASSIGNEE_FIELDS = Object.freeze(Array.from({ length: MAX_OPEN_ASSIGNEES }, (_v, i) => `open_assignee_${i + 1}`));

/** A step as its plan shows it: whether it is overdue depends on the plan's status. */
export type PlanStepInPlan = PlanStepV1 & { readonly plan_status: PlanStatus };

/** The plan's steps in sequence order, each with the plan's status. */
export const stepsInPlan = (plan: Pick<RevenuePlanV1, 'plan_status' | 'steps'>): PlanStepInPlan[] =>
  [...plan.steps].sort((a, b) => a.sequence - b.sequence).map((s) => ({ ...s, plan_status: plan.plan_status }));

/** A step still to be worked. */
export const isOpenStep = (step: Pick<PlanStepV1, 'status'>): boolean => step.status === 'PENDING';

/** PENDING, due before `now`, on an APPROVED or ACTIVE plan. */
export function isStepOverdue(planStatus: PlanStatus, step: Pick<PlanStepV1, 'status' | 'due_at'>, now: Date): boolean {
  return DUE_PLAN_STATUSES.includes(planStatus) && isOpenStep(step) && step.due_at !== undefined && step.due_at.getTime() < now.getTime();
}

export const openStepCount = (plan: Pick<RevenuePlanV1, 'steps'>): number => plan.steps.filter(isOpenStep).length;

export const overdueStepCount = (plan: Pick<RevenuePlanV1, 'plan_status' | 'steps'>, now: Date): number =>
  plan.steps.filter((s) => isStepOverdue(plan.plan_status, s, now)).length;

/** The distinct assignees of the open steps, sorted. */
export function openAssignees(steps: readonly Pick<PlanStepV1, 'status' | 'assignee'>[]): string[] {
  return [...new Set(steps.filter(isOpenStep).flatMap((s) => (s.assignee ? [s.assignee] : [])))].sort();
}

/** The earliest due date of an open step while the plan is APPROVED or ACTIVE, else null. */
export function nextDueAt(plan: Pick<RevenuePlanV1, 'plan_status' | 'steps'>): Date | null {
  if (!DUE_PLAN_STATUSES.includes(plan.plan_status)) return null;
  const dues = plan.steps.filter((s) => isOpenStep(s) && s.due_at !== undefined).map((s) => s.due_at!.getTime());
  return dues.length > 0 ? new Date(Math.min(...dues)) : null;
}

/**
 * The plan document's index fields for a plan as it is (status and steps): next_due_at, the
 * earliest due date of an open step while the plan is APPROVED or ACTIVE (else null), so "has an
 * overdue step at t" is next_due_at < t; and open_assignee_1..N, the open steps' assignees
 * while the plan is not in a terminal status (else null). Every write that changes a plan's
 * status or steps sets them.
 */
export function workIndexFields(plan: Pick<RevenuePlanV1, 'plan_status' | 'steps'>): Record<string, Date | string | null> {
  // A finished plan's PENDING steps are nobody's work any more.
  const assignees = TERMINAL_PLAN_STATUSES.includes(plan.plan_status) ? [] : openAssignees(plan.steps);
  const fields: Record<string, Date | string | null> = { next_due_at: nextDueAt(plan) };
  OPEN_ASSIGNEE_FIELDS.forEach((field, i) => {
    fields[field] = assignees[i] ?? null;
  });
  return fields;
}
