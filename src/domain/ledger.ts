import { z } from 'zod';
import { LEDGER_EVENT_TYPES } from './enums.js';

/** One stored ledger entry (collection plan_ledger). Never updated, never deleted. */
export const LedgerEntryRecordSchema = z.object({
  entry_id: z.string().min(1),
  plan_id: z.string().min(1),
  tenant_id: z.string().min(1),
  account_id: z.string().min(1),
  event_type: z.enum(LEDGER_EVENT_TYPES),
  timestamp: z.date(),
  /** UTC day (YYYY-MM-DD) of timestamp, kept as a plain field so aggregation needs no date operators. */
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  seq: z.number().int().min(1),
  actor: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  prev_hash: z.string().nullable(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type LedgerEntryRecord = z.infer<typeof LedgerEntryRecordSchema>;

/**
 * What a caller supplies to append: the ledger assigns prev_hash, hash and day. entry_id is the
 * key of the entry's position (the store's ledgerEntryKey of its seq).
 */
export type LedgerAppend = Pick<
  LedgerEntryRecord,
  'plan_id' | 'tenant_id' | 'account_id' | 'event_type' | 'actor' | 'data'
> & { entry_id: string; timestamp?: Date };
