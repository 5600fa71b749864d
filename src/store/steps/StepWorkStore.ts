import type { RevenuePlanV1 } from '../../domain/plan.js';
import type { StepMoveOutcome } from '../../domain/stepProgress.js';
import { workIndexFields } from '../../domain/stepWorkload.js';
import { parsePlanInput, statusChange } from '../PlanRepository.js';
import type { PlanStore } from '../PlanStore.js';

// Step work as plan changes (docs/steps.md, "In the store"): each move is ONE change of the plan
// document with ONE ledger event, through PlanStore's write protocol (the outbox), so it is as
// crash-safe as any transition. A move that completes the plan writes the step, the status and
// completion fields in that same write, and its one event is the PLAN_COMPLETED recording both.

export interface StepMoveInput {
  tenantId: string;
  planId: string;
  actor: string;
  /** When the move happened: the step's and the plan's timestamps and the event's. */
  at: Date;
  /** The plan as the store returned it to the caller: the change starts from it without a read. */
  basedOn?: RevenuePlanV1;
  /**
   * The move decided on the plan as stored now (stepProgress.decideStepMove); it throws to
   * refuse. A write that loses a race is decided again on the new state.
   */
  decide: (plan: RevenuePlanV1) => StepMoveOutcome;
}

export class StepWorkStore {
  constructor(private readonly store: Pick<PlanStore, 'changePlan'>) {}

  /** Records one step move; returns the plan after it. */
  recordStepMove(input: StepMoveInput): Promise<RevenuePlanV1> {
    const { tenantId, planId, actor, at } = input;
    return this.store.changePlan(tenantId, planId, 'steps', input.basedOn, (current) => {
      const outcome = input.decide(current.plan);
      const status = outcome.completes_plan ? 'COMPLETED' : current.plan.plan_status;
      // Validates the steps as any stored plan is validated.
      const after = parsePlanInput({ ...current.plan, steps: outcome.steps, plan_status: status, updated_at: at });
      const set: Record<string, unknown> = outcome.completes_plan
        ? statusChange(current.plan, 'COMPLETED', { completion_reason: 'all_steps_done' }, at)
        : { updated_at: at };
      Object.assign(set, { steps: after.steps, ...workIndexFields(after) });
      return {
        expectStatus: current.plan.plan_status,
        set,
        unset: [],
        event: { event_type: outcome.event_type, actor, data: outcome.data, timestamp: at },
      };
    });
  }
}
