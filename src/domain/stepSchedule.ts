import type { PlanTypeConfig, StepSchedule } from './planTypeConfig.js';

const DAY_MS = 86_400_000;

/** For an action type the config does not schedule (the gate rejects those anyway). */
export const DEFAULT_STEP_SCHEDULE: StepSchedule = Object.freeze({ owner_role: 'CSM', due_days_before_renewal: 30, due_days_after_creation: 14 });

export interface ScheduleAnchor {
  created_at: Date;
  /** YYYY-MM-DD, or null when no renewal date is known. */
  renewal_date: string | null;
}

export interface ScheduledStep {
  due_at: Date;
  owner_role: string;
}

/** The instant a renewal day stands for: its first moment (UTC), so "on or before it" is strict. */
export function renewalInstant(renewalDate: string | null): number | null {
  if (renewalDate === null) return null;
  const ms = Date.parse(`${renewalDate}T00:00:00.000Z`);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * Due dates and owners for steps in plan order (docs/proposals.md, "Explained proposals"). A step is due
 * its config offset before the renewal when the renewal is known and later than the creation,
 * else its offset after the creation; then every date is clamped to [created_at, renewal] and
 * made non-decreasing along the list, so the plan's invariants hold whatever the offsets say.
 */
export function scheduleSteps(config: PlanTypeConfig, actionTypes: readonly string[], anchor: ScheduleAnchor): ScheduledStep[] {
  const created = anchor.created_at.getTime();
  const renewal = renewalInstant(anchor.renewal_date);
  const before = renewal !== null && renewal > created ? renewal : null;
  let previous = created;
  return actionTypes.map((actionType) => {
    const schedule = config.step_schedule[actionType] ?? DEFAULT_STEP_SCHEDULE;
    const wanted = before === null ? created + schedule.due_days_after_creation * DAY_MS : before - schedule.due_days_before_renewal * DAY_MS;
    const due = Math.max(previous, clampDue(wanted, created, before));
    previous = due;
    return { due_at: new Date(due), owner_role: schedule.owner_role };
  });
}

/** A due instant inside [created, renewal] (no upper bound without a later renewal). */
export function clampDue(ms: number, created: number, renewal: number | null): number {
  const low = Math.max(ms, created);
  return renewal === null ? low : Math.min(low, renewal);
}

/**
 * The explained-proposal invariants a plan breaks (docs/proposals.md, "Explained proposals"), one
 * sentence each: every step has a due date and an owner; created_at <= due_at; with a renewal
 * later than the creation, every due_at on or before it; along sequence, due_at never decreases.
 */
export function scheduleViolations(plan: {
  created_at: Date;
  renewal_date?: string;
  steps: ReadonlyArray<{ action_type: string; sequence: number; due_at?: Date; owner_role?: string }>;
}): string[] {
  const problems: string[] = [];
  const created = plan.created_at.getTime();
  const renewal = renewalInstant(plan.renewal_date ?? null);
  let previous: { at: number; action_type: string } | null = null;
  for (const step of [...plan.steps].sort((a, b) => a.sequence - b.sequence)) {
    if (!step.owner_role) problems.push(`${step.action_type} has no owner role`);
    if (step.due_at === undefined) {
      problems.push(`${step.action_type} has no due date`);
      continue;
    }
    const at = step.due_at.getTime();
    if (at < created) problems.push(`${step.action_type} is due before the plan was created`);
    if (renewal !== null && renewal > created && at > renewal) problems.push(`${step.action_type} is due after the renewal date`);
    if (previous !== null && at < previous.at) problems.push(`${step.action_type} is due before ${previous.action_type}, which comes earlier`);
    previous = { at, action_type: step.action_type };
  }
  return problems;
}
