import { z } from 'zod';
import type { Principal } from '../../auth/principal.js';
import { AppError } from '../../domain/errors.js';
import { MAX_ASSIGNEE_CHARS, MAX_STEP_NOTE_CHARS, type RevenuePlanV1 } from '../../domain/plan.js';
import { decideStepMove, type StepMove } from '../../domain/stepProgress.js';
import type { Store, StepWorkStore } from '../../store/index.js';
import type { PlanExpiry } from '../lifecycle/PlanExpiry.js';
import type { TransitionOutcome } from '../lifecycle/PlanLifecycleService.js';
import { IdSchema, parseInput } from '../plans/apiInputs.js';

// The step-work mutations (docs/steps.md): validate the input once, read the plan as every
// lifecycle move does (repaired, expired when past its time), decide the move on it (so a
// refusal costs no write), and record it as one plan change with one ledger event.

const NoteSchema = z.string().max(MAX_STEP_NOTE_CHARS);
const ReasonSchema = NoteSchema.refine((s) => s.trim().length > 0, 'must not be blank');
/** A token subject: printable, no spaces, like every id the API takes. */
const AssigneeSchema = IdSchema.pipe(z.string().max(MAX_ASSIGNEE_CHARS));

interface Deps {
  store: Pick<Store, 'getPlanRepaired'>;
  stepWork: Pick<StepWorkStore, 'recordStepMove'>;
  expiry: Pick<PlanExpiry, 'settle'>;
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
    const at = this.clock();
    // Decided here first: a refusal is an error before any write (the store decides again on the plan it writes).
    decideStepMove(plan, stepId, move, at);
    const updated = await this.deps.stepWork.recordStepMove({
      tenantId: principal.tenantId,
      planId,
      actor: principal.sub,
      at,
      basedOn: plan,
      decide: (current) => decideStepMove(current, stepId, move, at),
    });
    return { ok: true, plan: updated, reasons: [] };
  }

  private async touch(principal: Principal, planId: string): Promise<RevenuePlanV1> {
    const plan = await this.deps.store.getPlanRepaired(principal.tenantId, planId);
    if (!plan) throw new AppError('NOT_FOUND', 'no such plan');
    return this.deps.expiry.settle(plan, { trigger: 'expired_on_read', touchedBy: principal.sub });
  }
}
