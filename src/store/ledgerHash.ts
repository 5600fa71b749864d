import { createHash } from 'node:crypto';
import { canonicalEncode } from '../domain/canonicalEncoding.js';
import { AppError } from '../domain/errors.js';

// The ledger's hash covers a canonical encoding of an entry, so the same entry hashes the same
// before it is written and after it is read back (key order, Dates and -0 do not matter).
// That only holds for values that survive a store round trip unchanged; toStorableJson
// admits exactly those and is applied to every free-form value before it is stored.

/** Values the store keeps exactly: JSON plus Dates. */
export type StorableJson =
  | null
  | boolean
  | number
  | string
  | Date
  | StorableJson[]
  | { [key: string]: StorableJson };

const MAX_DEPTH = 64;

const isPlainObject = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

/**
 * A copy of `value` the store keeps exactly, or BAD_USER_INPUT naming the offending path.
 * Drops undefined properties and turns undefined array items into null (what JSON and the
 * driver do anyway), turns -0 into 0, and refuses what a store would reject, crash on or
 * change: NaN and infinities, invalid Dates, keys that start with '$' or contain '.', and
 * anything that is not plain data.
 */
export function toStorableJson(value: unknown, path = 'value', depth = 0): StorableJson {
  if (depth > MAX_DEPTH) throw new AppError('BAD_USER_INPUT', `${path} is nested too deeply`);
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new AppError('BAD_USER_INPUT', `${path} must be a finite number`);
    return value === 0 ? 0 : value;
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new AppError('BAD_USER_INPUT', `${path} is an invalid date`);
    return new Date(value.getTime());
  }
  if (Array.isArray(value)) {
    return value.map((item, i) => (item === undefined ? null : toStorableJson(item, `${path}[${i}]`, depth + 1)));
  }
  if (typeof value === 'object' && isPlainObject(value)) {
    const out: { [key: string]: StorableJson } = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      if (key.startsWith('$') || key.includes('.')) {
        throw new AppError('BAD_USER_INPUT', `${path} has a key the store cannot keep: ${JSON.stringify(key)}`);
      }
      out[key] = toStorableJson(item, `${path}.${key}`, depth + 1);
    }
    return out;
  }
  throw new AppError('BAD_USER_INPUT', `${path} holds a value that is not JSON data`);
}

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
