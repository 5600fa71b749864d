import { AppError } from './errors.js';

// The one rule for free-form JSON (the API's JSON scalar, and every free-form value the store
// keeps): plain data a MongoDB document holds exactly and safely. The ledger's hashes rely on
// the round trip being exact (store/ledgerHash.ts); the key rule keeps operator injection and
// dotted paths out.

/** Values the store keeps exactly: JSON plus Dates. */
export type StorableJson =
  | null
  | boolean
  | number
  | string
  | Date
  | StorableJson[]
  | { [key: string]: StorableJson };

/** Nesting the store keeps (whole documents); the API admits less of client JSON. */
export const MAX_STORABLE_DEPTH = 64;
const MAX_KEY_LENGTH = 128;

/**
 * Keys JavaScript gives a meaning on every object: an assignment of `__proto__` replaces the
 * prototype instead of storing a value, and code down the line that reads `constructor` or
 * `prototype` from data gets the built-in one when the key is absent. Refused, never dropped.
 */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Why a key cannot be kept, or null: empty, too long, '$'-prefixed, dotted, with a NUL, or reserved. */
function storableKeyProblem(key: string): string | null {
  if (key.length === 0) return 'is empty';
  if (RESERVED_KEYS.has(key)) return 'is reserved (__proto__, constructor and prototype are not accepted)';
  if (key.length > MAX_KEY_LENGTH) return `is over ${MAX_KEY_LENGTH} characters`;
  if (key.startsWith('$')) return "starts with '$'";
  if (key.includes('.')) return "contains '.'";
  if (key.includes('\0')) return 'contains NUL';
  return null;
}

const isPlainObject = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

/**
 * A copy of `value` the store keeps exactly, or BAD_USER_INPUT naming the offending path.
 * Drops undefined properties and turns undefined array items into null (what JSON and the
 * driver do anyway), turns -0 into 0, and refuses what a store would reject, crash on or
 * change: NaN and infinities, invalid Dates, keys storableKeyProblem names, nesting deeper than
 * maxDepth, and anything that is not plain data.
 */
export function toStorableJson(value: unknown, path = 'value', maxDepth = MAX_STORABLE_DEPTH, depth = 0): StorableJson {
  if (depth > maxDepth) throw new AppError('BAD_USER_INPUT', `${path} is nested too deeply`);
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
    return value.map((item, i) => (item === undefined ? null : toStorableJson(item, `${path}[${i}]`, maxDepth, depth + 1)));
  }
  if (typeof value === 'object' && isPlainObject(value)) {
    const out: { [key: string]: StorableJson } = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      const problem = storableKeyProblem(key);
      if (problem) throw new AppError('BAD_USER_INPUT', `${path} has a key that ${problem}: ${JSON.stringify(key.slice(0, 40))}`);
      out[key] = toStorableJson(item, `${path}.${key}`, maxDepth, depth + 1);
    }
    return out;
  }
  throw new AppError('BAD_USER_INPUT', `${path} holds a value that is not JSON data`);
}
