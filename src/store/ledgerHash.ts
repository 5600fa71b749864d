import { createHash } from 'node:crypto';
import { canonicalEncode } from '../domain/canonicalEncoding.js';

// The ledger's hash covers a canonical encoding of an entry (domain/canonicalEncoding.ts), so the
// same entry hashes the same before it is written and after it is read back; every free-form
// value is made storable first (domain/storableJson.ts), so it survives the round trip unchanged.

/** The fields an entry's hash covers (everything but the hash itself and the derived day). */
export interface HashedLedgerFields {
  entry_id: string;
  plan_id: string;
  tenant_id: string;
  account_id: string;
  event_type: string;
  timestamp: Date;
  seq: number;
  actor: string | null;
  data: Record<string, unknown>;
  prev_hash: string | null;
}

/** Versioned so a future change of the encoding can live beside old chains. */
const HASH_DOMAIN = 'renewal-defense/plan-ledger/v1\n';

/** SHA-256 (hex) of the canonical encoding of an entry's own fields. */
export function hashLedgerEntry(fields: HashedLedgerFields): string {
  const canonical = canonicalEncode({
    entry_id: fields.entry_id,
    plan_id: fields.plan_id,
    tenant_id: fields.tenant_id,
    account_id: fields.account_id,
    event_type: fields.event_type,
    timestamp: fields.timestamp.toISOString(),
    seq: fields.seq,
    actor: fields.actor,
    data: fields.data,
    prev_hash: fields.prev_hash,
  });
  return createHash('sha256').update(HASH_DOMAIN).update(canonical).digest('hex');
}

/** UTC calendar day (YYYY-MM-DD) of a timestamp: the ledger's aggregation bucket. */
export const utcDay = (timestamp: Date): string => timestamp.toISOString().slice(0, 10);
