import { getPlanTypeConfig, listPlanTypeConfigs } from '../../config/planTypeConfig.js';
import type { PlanTypeConfig } from '../../domain/planTypeConfig.js';

/** Read access to the plan-type configuration. */
export class PlanTypeCatalog {
  list(): PlanTypeConfig[] {
    return listPlanTypeConfigs();
  }

  get(planType: string): PlanTypeConfig | null {
    return getPlanTypeConfig(planType);
  }
}
