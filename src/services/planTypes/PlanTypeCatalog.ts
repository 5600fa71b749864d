import { listPlanTypeConfigs } from '../../domain/planTypeConfig.js';
import type { PlanTypeConfig, StepSchedule } from '../../domain/planTypeConfig.js';
import { DEFAULT_STEP_SCHEDULE } from '../../domain/stepSchedule.js';

/** One row of a plan type's step schedule, as PlanTypeConfig.stepSchedule lists it. */
export interface StepScheduleRow extends StepSchedule {
  action_type: string;
}

/** One step's description, as PlanTypeConfig.stepDescriptions lists it. */
export interface StepDescriptionRow {
  action_type: string;
  description: string;
}

/** Where the tenant's version in force comes from (PlaybookService). */
export interface PlaybookReader {
  current(tenantId: string, planType: string): Promise<PlanTypeConfig | null>;
}

/** Read access to the plan-type configuration: the tenant's published playbook version of each type. */
export class PlanTypeCatalog {
  constructor(private readonly playbooks: PlaybookReader) {}

  async list(tenantId: string): Promise<PlanTypeConfig[]> {
    const configs = await Promise.all(listPlanTypeConfigs().map((c) => this.playbooks.current(tenantId, c.plan_type)));
    return configs.filter((c): c is PlanTypeConfig => c !== null);
  }

  get(tenantId: string, planType: string): Promise<PlanTypeConfig | null> {
    return this.playbooks.current(tenantId, planType);
  }
}

/** The schedule of each step of the default sequence, in its order. */
export function stepScheduleRows(config: PlanTypeConfig): StepScheduleRow[] {
  return config.default_sequence.map((action_type) => ({ action_type, ...(config.step_schedule[action_type] ?? DEFAULT_STEP_SCHEDULE) }));
}
