// The one canonical text of a JSON-plus-Dates value, so equal values hash equal wherever they
// are hashed (the ledger's entry hash, a proposal's request fingerprint).

/**
 * Canonical text of a storable value: object keys sorted (by UTF-16 code units), no
 * whitespace, Dates as {"$date":"<ISO>"} so they never collide with a string.
 */
export function canonicalEncode(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('canonicalEncode: non-finite number');
    return JSON.stringify(value);
  }
  if (typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Date) return `{"$date":${JSON.stringify(value.toISOString())}}`;
  if (Array.isArray(value)) return `[${value.map((item) => canonicalEncode(item)).join(',')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort();
    const body = keys.map((k) => `${JSON.stringify(k)}:${canonicalEncode((value as Record<string, unknown>)[k])}`);
    return `{${body.join(',')}}`;
  }
  throw new Error(`canonicalEncode: unsupported ${typeof value}`);
}
