import { z } from 'zod';
import type { Principal } from '../../auth/principal.js';
import { AppError } from '../../domain/errors.js';
import { MAX_ASSIGNEE_CHARS, MAX_STEP_NOTE_CHARS, type RevenuePlanV1 } from '../../domain/plan.js';
import { decideStepMove, type StepMove, type StepMoveOutcome } from '../../domain/stepProgress.js';
import type { PlanChangeDecision, Store } from '../../store/index.js';
import type { PlanExpiry } from '../lifecycle/PlanExpiry.js';
import type { TransitionOutcome } from '../lifecycle/PlanLifecycleService.js';
import { IdSchema, parseInput } from '../plans/apiInputs.js';

// The step-work mutations (docs/steps.md): validate the input once, read the plan as every
// lifecycle move does (repaired, expired when past its time), decide the move on it (so a
// refusal costs no write), and record it as one plan change with one ledger event
// (PlanStore.change: a lost race decides again on the new state). A move that leaves no open
// step and none FAILED also completes the plan in that write, recorded as its PLAN_COMPLETED.

const NoteSchema = z.string().max(MAX_STEP_NOTE_CHARS);
const ReasonSchema = NoteSchema.refine((s) => s.trim().length > 0, 'must not be blank');
/** A token subject: printable, no spaces, like every id the API takes. */
const AssigneeSchema = IdSchema.pipe(z.string().max(MAX_ASSIGNEE_CHARS));

interface Deps {
  store: Pick<Store, 'getPlanRepaired' | 'change'>;
  expiry: Pick<PlanExpiry, 'expireIfDue'>;
  clock?: () => Date;
}

export class StepProgressService {
  private readonly clock: () => Date;

  constructor(private readonly deps: Deps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  start(principal: Principal, planId: string, stepId: string): Promise<TransitionOutcome> {
    return this.record(principal, planId, stepId, { kind: 'start' });
  }

  complete(principal: Principal, planId: string, stepId: string, note: string | null | undefined): Promise<TransitionOutcome> {
    const checked = note == null || note.trim() === '' ? null : parseInput(NoteSchema, note.trim(), 'note');
    return this.record(principal, planId, stepId, { kind: 'complete', note: checked });
  }

  skip(principal: Principal, planId: string, stepId: string, reason: string): Promise<TransitionOutcome> {
    return this.record(principal, planId, stepId, { kind: 'skip', reason: parseInput(ReasonSchema, reason, 'reason').trim() });
  }

  fail(principal: Principal, planId: string, stepId: string, reason: string): Promise<TransitionOutcome> {
    return this.record(principal, planId, stepId, { kind: 'fail', reason: parseInput(ReasonSchema, reason, 'reason').trim() });
  }

  /** assignee null (or absent) unassigns. */
  assign(principal: Principal, planId: string, stepId: string, assignee: string | null | undefined): Promise<TransitionOutcome> {
    return this.record(principal, planId, stepId, { kind: 'assign', assignee: assignee == null ? null : parseInput(AssigneeSchema, assignee, 'assignee') });
  }

  private async record(principal: Principal, planId: string, stepId: string, move: StepMove): Promise<TransitionOutcome> {
    parseInput(IdSchema, planId, 'planId');
    parseInput(IdSchema, stepId, 'stepId');
    const plan = await this.touch(principal, planId);
    // Decided here first: a refusal is an error before any write (the store decides again on the plan it writes).
    const expected = decideStepMove(plan, stepId, move, this.clock());
    const updated = await this.deps.store.change({
      tenantId: principal.tenantId,
      planId,
      event_type: expected.event_type,
      basedOn: plan,
      decide: (current, now) => stepChange(decideStepMove(current, stepId, move, now), principal.sub, now),
    });
    return { ok: true, plan: updated, reasons: [] };
  }

  private async touch(principal: Principal, planId: string): Promise<RevenuePlanV1> {
    const plan = await this.deps.store.getPlanRepaired(principal.tenantId, planId);
    if (!plan) throw new AppError('NOT_FOUND', 'no such plan');
    return this.deps.expiry.expireIfDue(plan, { trigger: 'expired_on_read', touchedBy: principal.sub });
  }
}

/** The plan change of a decided move: its steps, and when it completes the plan, the plan's move too. */
function stepChange(outcome: StepMoveOutcome, actor: string, now: Date): PlanChangeDecision {
  const completion = outcome.completes_plan ? { plan_status: 'COMPLETED' as const, completed_at: now, completion_reason: 'all_steps_done' as const } : {};
  return {
    set: { ...completion, steps: outcome.steps, updated_at: now },
    event: { actor, data: outcome.data },
    event_type: outcome.event_type,
  };
}
