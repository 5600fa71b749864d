/**
 * Cuts a context object until its JSON fits a byte budget. Largest top-level fields are cut
 * first; an array keeps, in order, the items that still fit; an object loses its largest keys
 * first; a field that cannot be serialized (a cycle, a BigInt) becomes null. Each cut field is
 * named in `truncated` so the audit can say what the model did not see.
 */
export interface BudgetedContext {
  context: Record<string, unknown>;
  truncated: string[];
  bytes: number;
}

export function fitContextToBudget(context: Readonly<Record<string, unknown>>, budgetBytes: number): BudgetedContext {
  const fitted: Record<string, unknown> = {};
  const truncated = new Set<string>();
  for (const [key, value] of Object.entries(context)) {
    const serializable = canSerialize(value);
    if (!serializable) truncated.add(key);
    fitted[key] = serializable ? value : null;
  }
  const largestFirst = Object.keys(fitted).sort((a, b) => jsonBytes(fitted[b]) - jsonBytes(fitted[a]));
  for (const key of largestFirst) {
    const total = jsonBytes(fitted);
    if (total <= budgetBytes) break;
    fitted[key] = shrink(fitted[key], budgetBytes - (total - jsonBytes(fitted[key])));
    truncated.add(key);
  }
  return { context: fitted, truncated: [...truncated], bytes: jsonBytes(fitted) };
}

/** The value cut down to at most `allowance` bytes of JSON (sizes counted exactly, as JSON.stringify writes them). */
function shrink(value: unknown, allowance: number): unknown {
  if (Array.isArray(value)) {
    const kept: unknown[] = [];
    let used = 2; // the brackets
    for (const item of value) {
      const cost = jsonBytes(item) + (kept.length > 0 ? 1 : 0);
      if (used + cost <= allowance) {
        kept.push(item);
        used += cost;
      }
    }
    return kept;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(([k, v]) => ({ k, v, cost: jsonBytes(k) + 1 + jsonBytes(v) }));
    const sizeOf = (count: number, costs: number): number => 2 + costs + Math.max(count - 1, 0); // braces, entries, commas
    let count = entries.length;
    let costs = entries.reduce((sum, e) => sum + e.cost, 0);
    const dropped = new Set<string>();
    for (const e of [...entries].sort((a, b) => b.cost - a.cost)) {
      if (sizeOf(count, costs) <= allowance) break;
      dropped.add(e.k);
      count -= 1;
      costs -= e.cost;
    }
    return Object.fromEntries(entries.filter((e) => !dropped.has(e.k)).map((e) => [e.k, e.v]));
  }
  return null;
}

function canSerialize(value: unknown): boolean {
  try {
    JSON.stringify(value);
    return true;
  } catch {
    return false;
  }
}

/** UTF-8 size of a serializable value's JSON ("undefined" over-counts an omitted value, which is safe). */
const jsonBytes = (value: unknown): number => Buffer.byteLength(String(JSON.stringify(value)), 'utf8');
