import { getPlanTypeConfig, listPlanTypeConfigs } from '../../domain/planTypeConfig.js';
import type { PlanTypeConfig, StepSchedule } from '../../domain/planTypeConfig.js';
import { DEFAULT_STEP_SCHEDULE } from '../../domain/stepSchedule.js';

/** One row of a plan type's step schedule, as PlanTypeConfig.stepSchedule lists it. */
export interface StepScheduleRow extends StepSchedule {
  action_type: string;
}

/** Read access to the plan-type configuration. */
export class PlanTypeCatalog {
  list(): PlanTypeConfig[] {
    return listPlanTypeConfigs();
  }

  get(planType: string): PlanTypeConfig | null {
    return getPlanTypeConfig(planType);
  }
}

/** The schedule of each step of the default sequence, in its order. */
export function stepScheduleRows(config: PlanTypeConfig): StepScheduleRow[] {
  return config.default_sequence.map((action_type) => ({ action_type, ...(config.step_schedule[action_type] ?? DEFAULT_STEP_SCHEDULE) }));
}
