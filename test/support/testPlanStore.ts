import { PlanStore } from '../../src/store/PlanStore.js';

/**
 * A PlanStore whose flushPending (completing one plan's pending event: protected in production,
 * where verifyPlanLedger, reads, changes and the sweeps run it) tests may call directly.
 */
export class TestPlanStore extends PlanStore {
  override flushPending(tenantId: string, planId: string): Promise<boolean> {
    return super.flushPending(tenantId, planId);
  }
}
