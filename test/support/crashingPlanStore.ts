import type { Db } from 'mongodb';
import { PlanStore, type PlanStoreDeps } from '../../src/store/PlanStore.js';

/** The points of PlanStore's protocol where a crash leaves a half-written plan (see PlanStore.ts). */
export interface PlanStoreFaults {
  /** After a changed plan document (with its pending event) is written, before the ledger append. */
  afterPlanWrite?: (op: 'transition' | 'update', planId: string) => void | Promise<void>;
  /** After the ledger append: of a change, before its pending event is cleared; of a create, before the plan document is inserted. */
  afterLedgerAppend?: (planId: string) => void | Promise<void>;
}

/** A PlanStore that runs `faults` at those points: a fault that throws simulates a crash there. */
export class CrashingPlanStore extends PlanStore {
  constructor(
    db: Db,
    deps: PlanStoreDeps,
    private readonly faults: PlanStoreFaults,
  ) {
    super(db, deps);
  }

  protected override afterPlanWrite(op: 'transition' | 'update', planId: string): void | Promise<void> {
    return this.faults.afterPlanWrite?.(op, planId);
  }

  protected override afterLedgerAppend(planId: string): void | Promise<void> {
    return this.faults.afterLedgerAppend?.(planId);
  }
}
