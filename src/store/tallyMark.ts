import { randomUUID } from 'node:crypto';

// Every plan write sets tally_mark to a fresh value, in the same document write: the plan's
// share of its tenant's kept counts must be moved (PlanCounters clears the mark once it has).

export const TALLY_MARK = 'tally_mark';
export const newTallyMark = (): string => randomUUID();
