import type { Db } from 'mongodb';
import type { CrashPoints } from '../../src/store/PlanOutbox.js';
import { PlanStore, type PlanStoreDeps } from '../../src/store/PlanStore.js';

/** The points of the store's write protocol where a crash leaves a half-written plan (see CrashPoints in PlanOutbox.ts). */
export type PlanStoreFaults = CrashPoints;

/** A PlanStore that runs `faults` at those points: a fault that throws simulates a crash there. */
export class CrashingPlanStore extends PlanStore {
  constructor(db: Db, deps: PlanStoreDeps, faults: PlanStoreFaults) {
    super(db, { ...deps, crashPoints: faults });
  }
}
