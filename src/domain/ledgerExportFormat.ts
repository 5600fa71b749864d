// The JSON-lines export of a tenant's log (read by `npm run ledger:verify`, src/cli/ledgerAudit.ts).
// JSON has no dates, so a Date inside an entry is written {"$date":"<ISO>"}: the store refuses
// keys starting with "$" in entry data, so such an object can only be a tagged date.

export const EXPORT_FORMAT = 'renewal-defense-ledger-export/v1';

/** A copy with every Date as {"$date": ISO}. */
export function tagDates(value: unknown): unknown {
  if (value instanceof Date) return { $date: value.toISOString() };
  if (Array.isArray(value)) return value.map(tagDates);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tagDates(v)]));
  return value;
}

/** The inverse of tagDates. */
export function untagDates(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(untagDates);
  if (value && typeof value === 'object') {
    const date = (value as { $date?: unknown }).$date;
    if (Object.keys(value).length === 1 && typeof date === 'string') return new Date(date);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, untagDates(v)]));
  }
  return value;
}
