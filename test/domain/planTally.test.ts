import { describe, expect, it } from '@jest/globals';
import type { PlanStepV1 } from '../../src/domain/plan.js';
import { overdueIn, StatusCounts, tallyOf, utcDay } from '../../src/domain/planTally.js';
import { openStepCount, overdueStepCount } from '../../src/domain/stepWorkload.js';

// A plan's share of its tenant's kept counts: the same numbers as Plan.openSteps and
// Plan.overdueSteps, with the due dates the counters bucket by day.

const AT = new Date('2026-12-07T10:00:00.000Z');
const HOUR = 3_600_000;

const step = (step_id: string, extra: Partial<PlanStepV1> = {}): PlanStepV1 => ({ step_id, action_type: `A_${step_id}`, status: 'PENDING', sequence: 1, dependencies: [], ...extra });
const steps = [
  step('late', { due_at: new Date(AT.getTime() - 30 * HOUR) }),
  step('soon', { due_at: new Date(AT.getTime() + HOUR) }),
  step('undated'),
  step('done', { status: 'DONE', due_at: new Date(AT.getTime() - 50 * HOUR) }),
];

describe('tallyOf', () => {
  it('agrees with Plan.openSteps and Plan.overdueSteps in every status', () => {
    for (const plan_status of ['DRAFT', 'APPROVED', 'ACTIVE', 'PAUSED', 'COMPLETED'] as const) {
      const plan = { plan_type: 'RENEWAL_DEFENSE' as const, plan_status, steps };
      const tally = tallyOf(plan);
      expect(tally).toMatchObject({ plan_type: 'RENEWAL_DEFENSE', status: plan_status, open: openStepCount(plan) });
      for (const now of [new Date(AT.getTime() - 40 * HOUR), AT, new Date(AT.getTime() + 2 * HOUR)]) expect(overdueIn(tally, now)).toBe(overdueStepCount(plan, now));
    }
  });

  it('keeps the due dates of open steps of a plan whose work is due, ascending', () => {
    expect(tallyOf({ plan_type: 'RENEWAL_DEFENSE', plan_status: 'ACTIVE', steps: [...steps].reverse() }).dues).toEqual([steps[0]!.due_at, steps[1]!.due_at]);
    expect(tallyOf({ plan_type: 'RENEWAL_DEFENSE', plan_status: 'PAUSED', steps }).dues).toEqual([]);
  });

  it('buckets by UTC day', () => {
    expect(utcDay(new Date('2026-12-07T23:59:59.999Z'))).toBe('2026-12-07');
    expect(utcDay(new Date('2026-12-08T00:00:00.000Z'))).toBe('2026-12-08');
  });
});

describe('StatusCounts', () => {
  it('adds and takes away shares, and lists the statuses with plans in lifecycle order', () => {
    const counts = new StatusCounts();
    const active = tallyOf({ plan_type: 'RENEWAL_DEFENSE', plan_status: 'ACTIVE', steps });
    counts.addTally(active, AT);
    counts.addTally(tallyOf({ plan_type: 'RENEWAL_DEFENSE', plan_status: 'DRAFT', steps }), AT);
    counts.add('COMPLETED', { count: 1 });
    counts.add('ABORTED', {});
    expect(counts.toRows()).toEqual([
      { status: 'DRAFT', count: 1, openSteps: 3, overdueSteps: 0 },
      { status: 'ACTIVE', count: 1, openSteps: 3, overdueSteps: 1 },
      { status: 'COMPLETED', count: 1, openSteps: 0, overdueSteps: 0 },
    ]);
    counts.addTally(active, AT, -1);
    expect(counts.toRows().map((r) => r.status)).toEqual(['DRAFT', 'COMPLETED']);
  });
});
