import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { PLAN_STATUSES, STEP_STATUSES, type PlanStatus } from '../../src/domain/enums.js';
import { isAppError } from '../../src/domain/errors.js';
import type { PlanStepV1 } from '../../src/domain/plan.js';
import { decideStepMove, FINAL_STEP_STATUSES, type StepMove } from '../../src/domain/stepProgress.js';
import { MAX_OPEN_ASSIGNEES, openAssignees, overdueStepCount, workIndexFields } from '../../src/domain/stepWorkload.js';

fc.configureGlobal({ seed: 20261207, numRuns: 400 });

const IDS = ['a', 'b', 'c', 'd'];
const AT = new Date('2026-12-07T10:00:00.000Z');
const PEOPLE = ['alice', 'bob', 'carol', 'dave', 'erin'];

const arbitraryStep = (stepId: string, sequence: number): fc.Arbitrary<PlanStepV1> =>
  fc
    .record({
      status: fc.constantFrom(...STEP_STATUSES, 'PENDING', 'PENDING'),
      dependencies: fc.subarray(IDS.filter((id) => id !== stepId).concat('ghost'), { maxLength: 2 }),
      started: fc.boolean(),
      assignee: fc.option(fc.constantFrom(...PEOPLE), { nil: undefined }),
      dueInDays: fc.option(fc.integer({ min: -10, max: 10 }), { nil: undefined }),
    })
    .map(({ status, dependencies, started, assignee, dueInDays }) => ({
      step_id: stepId,
      action_type: `ACTION_${stepId.toUpperCase()}`,
      status,
      sequence,
      dependencies,
      ...(started ? { started_at: new Date(AT.getTime() - 3_600_000) } : {}),
      ...(assignee ? { assignee } : {}),
      ...(dueInDays !== undefined ? { due_at: new Date(AT.getTime() + dueInDays * 86_400_000) } : {}),
    }));

const arbitrarySteps: fc.Arbitrary<PlanStepV1[]> = fc
  .integer({ min: 1, max: IDS.length })
  .chain((n) => fc.tuple(...IDS.slice(0, n).map((id, i) => arbitraryStep(id, i + 1))))
  // At most MAX_OPEN_ASSIGNEES people on open steps, as every stored plan has.
  .filter((steps) => openAssignees(steps).length <= MAX_OPEN_ASSIGNEES);

const arbitraryMove: fc.Arbitrary<StepMove> = fc.oneof(
  fc.constant<StepMove>({ kind: 'start' }),
  fc.option(fc.constant('done it'), { nil: null }).map((note): StepMove => ({ kind: 'complete', note })),
  fc.constant<StepMove>({ kind: 'skip', reason: 'not needed' }),
  fc.constant<StepMove>({ kind: 'fail', reason: 'customer declined' }),
  fc.option(fc.constantFrom(...PEOPLE), { nil: null }).map((assignee): StepMove => ({ kind: 'assign', assignee })),
);

const arbitraryCase = fc.record({
  plan_status: fc.constantFrom<PlanStatus>(...PLAN_STATUSES, 'ACTIVE', 'ACTIVE', 'ACTIVE'),
  steps: arbitrarySteps,
  stepId: fc.constantFrom(...IDS, 'missing'),
  move: arbitraryMove,
});

/** The decision's code, or 'ok'. */
function attempt(c: { plan_status: PlanStatus; steps: PlanStepV1[]; stepId: string; move: StepMove }) {
  try {
    return { code: 'ok' as const, outcome: decideStepMove({ plan_status: c.plan_status, steps: c.steps }, c.stepId, c.move, AT) };
  } catch (e) {
    if (!isAppError(e)) throw e;
    return { code: e.code, outcome: null };
  }
}

// ---- Oracle: the rules restated independently of the implementation. ----
function expectedCode(c: { plan_status: PlanStatus; steps: PlanStepV1[]; stepId: string; move: StepMove }): string {
  const step = c.steps.find((s) => s.step_id === c.stepId);
  if (!step) return 'NOT_FOUND';
  if (c.plan_status !== 'ACTIVE') return 'INVALID_TRANSITION';
  if (step.status !== 'PENDING') return 'INVALID_TRANSITION';
  if (c.move.kind === 'start' && step.started_at) return 'INVALID_TRANSITION';
  if (c.move.kind === 'assign' && (step.assignee ?? null) === c.move.assignee) return 'INVALID_TRANSITION';
  const depsDone = step.dependencies.every((id) => c.steps.some((s) => s.step_id === id && s.status === 'DONE'));
  if ((c.move.kind === 'start' || c.move.kind === 'complete') && !depsDone) return 'INVALID_TRANSITION';
  if (c.move.kind === 'assign' && c.move.assignee !== null) {
    const others = new Set(c.steps.filter((s) => s.step_id !== c.stepId && s.status === 'PENDING' && s.assignee).map((s) => s.assignee));
    others.add(c.move.assignee);
    if (others.size > MAX_OPEN_ASSIGNEES) return 'CONFLICT';
  }
  return 'ok';
}

describe('step moves (property)', () => {
  it('refuse exactly what the rules refuse, with the rules\' code', () => {
    fc.assert(fc.property(arbitraryCase, (c) => expect(attempt(c).code).toBe(expectedCode(c))));
  });

  it('change only the named step, never a final status, and record one event naming the step', () => {
    fc.assert(
      fc.property(arbitraryCase, (c) => {
        const { outcome } = attempt(c);
        if (!outcome) return;
        const before = new Map(c.steps.map((s) => [s.step_id, s]));
        for (const s of outcome.steps) if (s.step_id !== c.stepId) expect(s).toBe(before.get(s.step_id));
        for (const s of c.steps) if (FINAL_STEP_STATUSES.includes(s.status)) expect(outcome.steps.find((x) => x.step_id === s.step_id)).toBe(s);
        expect(outcome.data.step_id).toBe(c.stepId);
        const after = outcome.steps.find((s) => s.step_id === c.stepId)!;
        const expectedStatus = { start: 'PENDING', assign: 'PENDING', complete: 'DONE', skip: 'SKIPPED', fail: 'FAILED' }[c.move.kind];
        expect(after.status).toBe(expectedStatus);
        if (c.move.kind === 'start') expect(after.started_at).toEqual(AT);
        if (c.move.kind === 'assign') expect(after.assignee ?? null).toBe(c.move.assignee);
        if (c.move.kind === 'skip' || c.move.kind === 'fail') expect(after.note).toBe(c.move.reason);
      }),
    );
  });

  it('complete the plan exactly when the last open step becomes DONE or SKIPPED and none FAILED', () => {
    fc.assert(
      fc.property(arbitraryCase, (c) => {
        const { outcome } = attempt(c);
        if (!outcome) return;
        const allSettled = outcome.steps.every((s) => s.status === 'DONE' || s.status === 'SKIPPED');
        const expected = (c.move.kind === 'complete' || c.move.kind === 'skip') && allSettled;
        expect(outcome.completes_plan).toBe(expected);
        expect(outcome.event_type === 'PLAN_COMPLETED').toBe(expected);
        if (expected) expect(outcome.data).toMatchObject({ completion_reason: 'all_steps_done', step_event: c.move.kind === 'skip' ? 'STEP_SKIPPED' : 'STEP_COMPLETED' });
      }),
    );
  });

  it('a run of moves completes a plan at most once, and every step ends final or the plan stays open', () => {
    fc.assert(
      fc.property(arbitrarySteps, fc.array(fc.tuple(fc.constantFrom(...IDS), arbitraryMove), { maxLength: 30 }), (initial, moves) => {
        let plan = { plan_status: 'ACTIVE' as PlanStatus, steps: initial };
        let completions = 0;
        for (const [stepId, move] of moves) {
          const { outcome } = attempt({ ...plan, stepId, move });
          if (!outcome) continue;
          plan = { plan_status: outcome.completes_plan ? 'COMPLETED' : 'ACTIVE', steps: outcome.steps };
          if (outcome.completes_plan) completions += 1;
        }
        expect(completions).toBeLessThanOrEqual(1);
        if (completions === 1) expect(plan.steps.every((s) => s.status === 'DONE' || s.status === 'SKIPPED')).toBe(true);
      }),
    );
  });
});

describe('the work index fields (property)', () => {
  it('next_due_at < t exactly when the plan has an overdue step at t; assignees are the open steps\' own', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PLAN_STATUSES), arbitrarySteps, fc.integer({ min: -12, max: 12 }), (plan_status, steps, hours) => {
        const now = new Date(AT.getTime() + hours * 3_600_000);
        const fields = workIndexFields({ plan_status, steps });
        const due = fields.next_due_at as Date | null;
        expect(due !== null && due.getTime() < now.getTime()).toBe(overdueStepCount({ plan_status, steps }, now) > 0);
        const slots = [fields.open_assignee_1, fields.open_assignee_2, fields.open_assignee_3].filter((v) => v !== null);
        const finished = ['COMPLETED', 'ABORTED', 'EXPIRED'].includes(plan_status);
        expect(new Set(slots)).toEqual(new Set(finished ? [] : steps.filter((s) => s.status === 'PENDING' && s.assignee).map((s) => s.assignee)));
      }),
    );
  });
});
