import { PLAN_STATUSES, type PlanStatus, type PlanType } from './enums.js';
import type { RevenuePlanV1 } from './plan.js';
import { DUE_PLAN_STATUSES, isOpenStep } from './stepWorkload.js';

// What one plan adds to its tenant's counts (docs/steps.md, "Counts kept, not walked"): the
// store keeps the sum of these per tenant and moves a plan's share when the plan changes.

/** A plan's share of the counts: its status, its open steps, and when the due ones fall due. */
export interface PlanTally {
  plan_type: PlanType;
  status: PlanStatus;
  /** PENDING steps (as Plan.openSteps). */
  open: number;
  /** due_at of each open step that can be overdue (the plan APPROVED or ACTIVE), ascending. */
  dues: Date[];
}

/** One planStatusCounts row. */
export interface StatusCount {
  status: PlanStatus;
  count: number;
  openSteps: number;
  overdueSteps: number;
}

export function tallyOf(plan: Pick<RevenuePlanV1, 'plan_type' | 'plan_status' | 'steps'>): PlanTally {
  const open = plan.steps.filter(isOpenStep);
  const canBeLate = DUE_PLAN_STATUSES.includes(plan.plan_status);
  const dues = canBeLate ? open.flatMap((s) => (s.due_at ? [s.due_at] : [])).sort((a, b) => a.getTime() - b.getTime()) : [];
  return { plan_type: plan.plan_type, status: plan.plan_status, open: open.length, dues };
}

/** Steps of the tally overdue at `now` (as Plan.overdueSteps). */
export const overdueIn = (tally: Pick<PlanTally, 'dues'>, now: Date): number => tally.dues.filter((d) => d.getTime() < now.getTime()).length;

/** The UTC day (YYYY-MM-DD) a due date falls in: the counters' bucket for it. */
export const utcDay = (at: Date): string => at.toISOString().slice(0, 10);

/** Counts per status, added to as plans are tallied. */
export class StatusCounts {
  private readonly rows = new Map<PlanStatus, StatusCount>();

  add(status: PlanStatus, delta: { count?: number; openSteps?: number; overdueSteps?: number }): void {
    const row = this.rows.get(status) ?? { status, count: 0, openSteps: 0, overdueSteps: 0 };
    row.count += delta.count ?? 0;
    row.openSteps += delta.openSteps ?? 0;
    row.overdueSteps += delta.overdueSteps ?? 0;
    this.rows.set(status, row);
  }

  /** Adds (sign 1) or takes away (sign -1) one plan's share as it is at `now`. */
  addTally(tally: PlanTally, now: Date, sign: 1 | -1 = 1): void {
    this.add(tally.status, { count: sign, openSteps: sign * tally.open, overdueSteps: sign * overdueIn(tally, now) });
  }

  /** The statuses that have plans, in the lifecycle's order. */
  toRows(): StatusCount[] {
    return PLAN_STATUSES.flatMap((s) => {
      const row = this.rows.get(s);
      return row && row.count > 0 ? [{ ...row }] : [];
    });
  }
}
