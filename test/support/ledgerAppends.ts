import type { LedgerAppend, LedgerEntryRecord } from '../../src/domain/ledger.js';
import { ledgerEntryKey, type PlanLedger } from '../../src/store/PlanLedger.js';

/** An entry to append; its id is filled in from the seq it gets. */
export type NextEntry = Omit<LedgerAppend, 'entry_id'>;

/**
 * Appends entries to the ends of plans' chains as PlanStore does (event n at seq n, its id the
 * key of seq n), counting each plan's seqs here, so ledger tests can write chains without a
 * plan document. Seqs are taken when called, so concurrent calls get 1, 2, 3, … in call order.
 */
export function chainAppender(ledger: PlanLedger, startAfter: Record<string, number> = {}): (entry: NextEntry) => Promise<LedgerEntryRecord> {
  const last = new Map<string, number>(Object.entries(startAfter));
  return (entry) => {
    const key = `${entry.tenant_id}/${entry.plan_id}`;
    const seq = (last.get(key) ?? 0) + 1;
    last.set(key, seq);
    return ledger.append({ ...entry, entry_id: ledgerEntryKey(entry.tenant_id, entry.plan_id, seq) }, { expectedSeq: seq });
  };
}
