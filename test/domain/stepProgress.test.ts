import { describe, expect, it } from '@jest/globals';
import type { PlanStepV1 } from '../../src/domain/plan.js';
import { decideStepMove, type StepMove } from '../../src/domain/stepProgress.js';
import { isStepOverdue, openStepCount, overdueStepCount, workIndexFields } from '../../src/domain/stepWorkload.js';
import { AppError } from '../../src/domain/errors.js';
import { rejectionOf } from '../support/rejection.js';

const AT = new Date('2026-12-07T10:00:00.000Z');
const DAY = 86_400_000;

const step = (step_id: string, extra: Partial<PlanStepV1> = {}): PlanStepV1 => ({
  step_id,
  action_type: `ACTION_${step_id}`,
  status: 'PENDING',
  sequence: 1,
  dependencies: [],
  ...extra,
});

const active = (...steps: PlanStepV1[]) => ({ plan_status: 'ACTIVE' as const, steps });
const decide = (plan: ReturnType<typeof active> | { plan_status: string; steps: PlanStepV1[] }, id: string, move: StepMove) =>
  decideStepMove(plan as ReturnType<typeof active>, id, move, AT);
const codeOf = async (fn: () => unknown) => (await rejectionOf(AppError, (async () => fn())())).code;

describe('decideStepMove', () => {
  it('start records STEP_STARTED and startedAt; the step stays PENDING; starting twice is INVALID_TRANSITION', async () => {
    const outcome = decide(active(step('m')), 'm', { kind: 'start' });
    expect(outcome).toMatchObject({ event_type: 'STEP_STARTED', completes_plan: false, data: { step_id: 'm', action_type: 'ACTION_m' } });
    expect(outcome.steps[0]).toMatchObject({ status: 'PENDING', started_at: AT });
    expect(await codeOf(() => decide(active(...outcome.steps), 'm', { kind: 'start' }))).toBe('INVALID_TRANSITION');
  });

  it('complete needs every dependency DONE (a SKIPPED one is not enough), keeps the note, and completes the plan last', async () => {
    const plan = active(step('m'), step('b', { dependencies: ['m'] }), step('e'));
    expect(await codeOf(() => decide(plan, 'b', { kind: 'complete', note: null }))).toBe('INVALID_TRANSITION');
    expect(await codeOf(() => decide(plan, 'b', { kind: 'start' }))).toBe('INVALID_TRANSITION');
    const skippedDep = decide(plan, 'm', { kind: 'skip', reason: 'met already' });
    expect(await codeOf(() => decide(active(...skippedDep.steps), 'b', { kind: 'complete', note: null }))).toBe('INVALID_TRANSITION');

    const m = decide(plan, 'm', { kind: 'complete', note: 'booked for Tuesday' });
    expect(m).toMatchObject({ event_type: 'STEP_COMPLETED', data: { from: 'PENDING', to: 'DONE', note: 'booked for Tuesday' } });
    expect(m.steps[0]).toMatchObject({ status: 'DONE', completed_at: AT, note: 'booked for Tuesday' });
    const e = decide(active(...m.steps), 'e', { kind: 'skip', reason: 'no open tickets' });
    expect(e).toMatchObject({ event_type: 'STEP_SKIPPED', completes_plan: false, data: { reason: 'no open tickets' } });
    const last = decide(active(...e.steps), 'b', { kind: 'complete', note: null });
    expect(last).toMatchObject({
      event_type: 'PLAN_COMPLETED',
      completes_plan: true,
      data: {
        from: 'ACTIVE',
        to: 'COMPLETED',
        completion_reason: 'all_steps_done',
        step_id: 'b',
        step_event: 'STEP_COMPLETED',
        step: { step_id: 'b', from: 'PENDING', to: 'DONE' },
      },
    });
  });

  it('a FAILED step keeps the plan from completing itself', () => {
    const failed = decide(active(step('m'), step('e')), 'm', { kind: 'fail', reason: 'champion left' });
    expect(failed).toMatchObject({ event_type: 'STEP_FAILED', data: { reason: 'champion left', to: 'FAILED' } });
    const last = decide(active(...failed.steps), 'e', { kind: 'complete', note: null });
    expect(last).toMatchObject({ event_type: 'STEP_COMPLETED', completes_plan: false });
  });

  it('DONE, SKIPPED and FAILED are final for every move', async () => {
    for (const status of ['DONE', 'SKIPPED', 'FAILED'] as const) {
      for (const move of [{ kind: 'start' }, { kind: 'complete', note: null }, { kind: 'skip', reason: 'r' }, { kind: 'fail', reason: 'r' }, { kind: 'assign', assignee: 'x' }] as StepMove[]) {
        expect(await codeOf(() => decide(active(step('m', { status }), step('e')), 'm', move))).toBe('INVALID_TRANSITION');
      }
    }
  });

  it('only an ACTIVE plan takes step work; an unknown step is NOT_FOUND', async () => {
    for (const plan_status of ['DRAFT', 'APPROVED', 'PAUSED', 'COMPLETED', 'ABORTED', 'EXPIRED']) {
      expect(await codeOf(() => decide({ plan_status, steps: [step('m')] }, 'm', { kind: 'start' }))).toBe('INVALID_TRANSITION');
    }
    expect(await codeOf(() => decide(active(step('m')), 'nope', { kind: 'start' }))).toBe('NOT_FOUND');
  });

  it('assign sets and clears the assignee, records from and to, and refuses a fourth person on open steps', async () => {
    const assigned = decide(active(step('m')), 'm', { kind: 'assign', assignee: 'alice' });
    expect(assigned).toMatchObject({ event_type: 'STEP_ASSIGNED', data: { step_id: 'm', assignee: { from: null, to: 'alice' } } });
    expect(assigned.steps[0]!.assignee).toBe('alice');
    const cleared = decide(active(...assigned.steps), 'm', { kind: 'assign', assignee: null });
    expect(cleared.steps[0]).not.toHaveProperty('assignee');
    expect(cleared.data.assignee).toEqual({ from: 'alice', to: null });
    expect(await codeOf(() => decide(active(...assigned.steps), 'm', { kind: 'assign', assignee: 'alice' }))).toBe('INVALID_TRANSITION');
    const three = active(step('a', { assignee: 'p1' }), step('b', { assignee: 'p2' }), step('c', { assignee: 'p3' }), step('d'), step('e', { assignee: 'p4', status: 'DONE' }));
    expect(await codeOf(() => decide(three, 'd', { kind: 'assign', assignee: 'p4' }))).toBe('CONFLICT');
    expect(decide(three, 'd', { kind: 'assign', assignee: 'p1' }).event_type).toBe('STEP_ASSIGNED');
  });
});

describe('overdue work and the index fields', () => {
  const past = new Date(AT.getTime() - DAY);
  const future = new Date(AT.getTime() + DAY);

  it('a PENDING step past its due date on an APPROVED or ACTIVE plan is overdue; nothing else is', () => {
    expect(isStepOverdue('ACTIVE', step('m', { due_at: past }), AT)).toBe(true);
    expect(isStepOverdue('APPROVED', step('m', { due_at: past }), AT)).toBe(true);
    expect(isStepOverdue('PAUSED', step('m', { due_at: past }), AT)).toBe(false);
    expect(isStepOverdue('ACTIVE', step('m', { due_at: past, status: 'DONE' }), AT)).toBe(false);
    expect(isStepOverdue('ACTIVE', step('m', { due_at: future }), AT)).toBe(false);
    expect(isStepOverdue('ACTIVE', step('m'), AT)).toBe(false);
  });

  it('counts open and overdue steps, and keeps next_due_at and the open assignees', () => {
    const plan = active(step('a', { due_at: future, assignee: 'bob' }), step('b', { due_at: past, assignee: 'alice' }), step('c', { due_at: past, status: 'DONE', assignee: 'zed' }));
    expect(openStepCount(plan)).toBe(2);
    expect(overdueStepCount(plan, AT)).toBe(1);
    expect(workIndexFields(plan)).toEqual({ next_due_at: past, open_assignee_1: 'alice', open_assignee_2: 'bob', open_assignee_3: null });
    expect(workIndexFields({ ...plan, plan_status: 'PAUSED' })).toMatchObject({ next_due_at: null, open_assignee_1: 'alice' });
    expect(workIndexFields({ ...plan, plan_status: 'COMPLETED' })).toMatchObject({ next_due_at: null, open_assignee_1: null });
  });
});
