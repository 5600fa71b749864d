import type { LedgerEventType, PlanStatus, PlanStepStatus } from './enums.js';
import { AppError } from './errors.js';
import type { PlanStepV1, RevenuePlanV1 } from './plan.js';
import { MAX_OPEN_ASSIGNEES, openAssignees } from './stepWorkload.js';

// What people record of the work on a plan's steps (docs/steps.md). Nothing here runs a step:
// a move is a fact someone reports, checked against the plan as stored and turned into the
// plan's next steps and the one ledger event that records them. Pure: the caller gives the time.

/** The moves a person can record on one step. */
export type StepMove =
  | { kind: 'start' }
  | { kind: 'complete'; note: string | null }
  | { kind: 'skip'; reason: string }
  | { kind: 'fail'; reason: string }
  | { kind: 'assign'; assignee: string | null };

export type StepMoveKind = StepMove['kind'];

/** Statuses a step never leaves. */
export const FINAL_STEP_STATUSES: readonly PlanStepStatus[] = Object.freeze(['DONE', 'SKIPPED', 'FAILED']);

/** Step work is recorded only on an ACTIVE plan. */
export const WORKABLE_PLAN_STATUS: PlanStatus = 'ACTIVE';

/** One step move as data: what it needs, what it changes, what it records (docs/policy-gate.md renders this table). */
export interface StepMoveRule {
  kind: StepMoveKind;
  mutation: string;
  from: PlanStepStatus;
  to: PlanStepStatus;
  event_type: LedgerEventType;
  /** The step fields it sets. */
  sets: readonly string[];
  /** Besides an ACTIVE plan and a PENDING step. */
  requires: string;
}

export const STEP_MOVES: readonly StepMoveRule[] = Object.freeze(
  (
    [
      { kind: 'start', mutation: 'startStep', from: 'PENDING', to: 'PENDING', event_type: 'STEP_STARTED', sets: ['started_at'], requires: 'not started yet; every dependency DONE' },
      { kind: 'complete', mutation: 'completeStep', from: 'PENDING', to: 'DONE', event_type: 'STEP_COMPLETED', sets: ['completed_at', 'note (optional)'], requires: 'every dependency DONE' },
      { kind: 'skip', mutation: 'skipStep', from: 'PENDING', to: 'SKIPPED', event_type: 'STEP_SKIPPED', sets: ['completed_at', 'note (the reason, required)'], requires: '-' },
      { kind: 'fail', mutation: 'failStep', from: 'PENDING', to: 'FAILED', event_type: 'STEP_FAILED', sets: ['completed_at', 'note (the reason, required)'], requires: '-' },
      {
        kind: 'assign',
        mutation: 'assignStep',
        from: 'PENDING',
        to: 'PENDING',
        event_type: 'STEP_ASSIGNED',
        sets: ['assignee (null clears it)'],
        requires: `a change; at most ${MAX_OPEN_ASSIGNEES} people on the plan's open steps`,
      },
    ] satisfies StepMoveRule[]
  ).map((rule) => Object.freeze({ ...rule, sets: Object.freeze([...rule.sets]) })),
);

const ruleOf = (kind: StepMoveKind): StepMoveRule => STEP_MOVES.find((r) => r.kind === kind)!;

/** The outcome of a move: the plan's steps after it, and the one ledger event recording it. */
export interface StepMoveOutcome {
  steps: PlanStepV1[];
  /** STEP_* for the move; PLAN_COMPLETED when the move also completes the plan (the entry then records both). */
  event_type: LedgerEventType;
  data: Record<string, unknown>;
  /** True when the move left no open step and none FAILED: the plan completes (all_steps_done) in the same write. */
  completes_plan: boolean;
}

/**
 * Decides a move on step `stepId` of `plan` at `at`: NOT_FOUND for a step the plan lacks,
 * INVALID_TRANSITION when the plan is not ACTIVE, the step is final, the move changes nothing
 * (started twice, assigned to whom it is assigned to), or the step would be DONE (or started)
 * before every step it depends on is DONE; CONFLICT when it would
 * give the plan's open steps more than MAX_OPEN_ASSIGNEES assignees.
 */
export function decideStepMove(plan: Pick<RevenuePlanV1, 'plan_status' | 'steps'>, stepId: string, move: StepMove, at: Date): StepMoveOutcome {
  const step = plan.steps.find((s) => s.step_id === stepId);
  if (!step) throw new AppError('NOT_FOUND', `the plan has no step ${stepId}`, { stepId });
  if (plan.plan_status !== WORKABLE_PLAN_STATUS) {
    throw new AppError('INVALID_TRANSITION', `step work is recorded on an ACTIVE plan; this plan is ${plan.plan_status}`, { status: plan.plan_status });
  }
  if (step.status !== 'PENDING') {
    throw new AppError('INVALID_TRANSITION', `step ${stepId} is ${step.status}${FINAL_STEP_STATUSES.includes(step.status) ? ', which is final' : ''}`, {
      stepId,
      stepStatus: step.status,
    });
  }
  if (move.kind === 'start' && step.started_at) {
    throw new AppError('INVALID_TRANSITION', `step ${stepId} was already started at ${step.started_at.toISOString()}`, { stepId });
  }
  if (move.kind === 'assign' && (step.assignee ?? null) === move.assignee) {
    throw new AppError('INVALID_TRANSITION', `step ${stepId} is already ${move.assignee === null ? 'unassigned' : `assigned to ${move.assignee}`}`, { stepId });
  }
  if (move.kind === 'start' || move.kind === 'complete') {
    const waiting = unmetDependencies(plan.steps, step);
    if (waiting.length > 0) {
      throw new AppError('INVALID_TRANSITION', `step ${stepId} depends on ${waiting.join(', ')}, not DONE yet`, { stepId, waitingFor: waiting });
    }
  }
  const changed = applyMove(step, move, at);
  const steps = plan.steps.map((s) => (s.step_id === stepId ? changed : s));
  if (move.kind === 'assign' && openAssignees(steps).length > MAX_OPEN_ASSIGNEES) {
    throw new AppError('CONFLICT', `a plan's open steps can have at most ${MAX_OPEN_ASSIGNEES} assignees`, { reason: 'TOO_MANY_ASSIGNEES' });
  }
  const data = moveData(step, changed, move);
  const completes = (move.kind === 'complete' || move.kind === 'skip') && completesPlan(steps);
  if (!completes) return { steps, event_type: ruleOf(move.kind).event_type, data, completes_plan: false };
  return {
    steps,
    event_type: 'PLAN_COMPLETED',
    // The plan's move, and the step move that caused it as its own STEP_* event would record it.
    data: { from: 'ACTIVE', to: 'COMPLETED', completion_reason: 'all_steps_done', step_id: stepId, step_event: ruleOf(move.kind).event_type, step: data },
    completes_plan: true,
  };
}

/** True when no step is open and none FAILED (and there is a step): the plan's work is done. */
export function completesPlan(steps: readonly Pick<PlanStepV1, 'status'>[]): boolean {
  return steps.length > 0 && steps.every((s) => s.status === 'DONE' || s.status === 'SKIPPED');
}

/** Ids of the steps `step` depends on that are not DONE (unknown ids count as not DONE). */
export function unmetDependencies(steps: readonly PlanStepV1[], step: Pick<PlanStepV1, 'dependencies'>): string[] {
  const statusOf = new Map(steps.map((s) => [s.step_id, s.status]));
  return step.dependencies.filter((id) => statusOf.get(id) !== 'DONE');
}

function applyMove(step: PlanStepV1, move: StepMove, at: Date): PlanStepV1 {
  switch (move.kind) {
    case 'start':
      return { ...step, started_at: at };
    case 'assign': {
      const { assignee: _previous, ...rest } = step;
      return move.assignee === null ? rest : { ...rest, assignee: move.assignee };
    }
    case 'complete': {
      const { note: _none, ...rest } = step;
      return { ...rest, status: 'DONE', completed_at: at, ...(move.note !== null ? { note: move.note } : {}) };
    }
    case 'skip':
    case 'fail':
      return { ...step, status: ruleOf(move.kind).to, completed_at: at, note: move.reason };
  }
}

/** The event's data: which step, and what changed (the actor is the entry's own field). */
function moveData(before: PlanStepV1, after: PlanStepV1, move: StepMove): Record<string, unknown> {
  const data: Record<string, unknown> = { step_id: before.step_id, action_type: before.action_type };
  if (before.status !== after.status) Object.assign(data, { from: before.status, to: after.status });
  if (move.kind === 'assign') Object.assign(data, { assignee: { from: before.assignee ?? null, to: move.assignee } });
  if (move.kind === 'complete' && move.note !== null) data.note = move.note;
  if (move.kind === 'skip' || move.kind === 'fail') data.reason = move.reason;
  return data;
}
