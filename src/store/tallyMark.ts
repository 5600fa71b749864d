import { randomUUID } from 'node:crypto';

// Every plan write sets tally_mark to a fresh value, in the same document write: the plan's
// share of its tenant's kept counts must be moved (PlanCounters clears the mark once it has).

export const TALLY_MARK = 'tally_mark';
export const newTallyMark = (): string => randomUUID();

/**
 * Tenants whose plans this process marked since the tally job last looked, per database. A
 * hint only: it spares the job a query that decodes every marked plan to learn their tenants on
 * each run; the job still looks at the store's marked plans now and then, for the marks other
 * instances (or a process that died) left.
 */
const markedHere = new Map<string, Set<string>>();

export function noteMarked(dbName: string, tenantId: string): void {
  let tenants = markedHere.get(dbName);
  if (!tenants) markedHere.set(dbName, (tenants = new Set()));
  tenants.add(tenantId);
}

/** The tenants noted since the last call, and forgets them. */
export function takeMarked(dbName: string): string[] {
  const tenants = markedHere.get(dbName);
  if (!tenants) return [];
  markedHere.delete(dbName);
  return [...tenants];
}
