/**
 * Evidence from a model whose context was cut: it cites signals[i] / history[i] by position in
 * the list it was shown. This maps those positions back to the input (evidence indexes are the
 * input's, docs/proposals.md); a position past what it was shown becomes -1, so it is dropped as out of range
 * rather than landing on an item the model never saw. Everything else is left as it came.
 */
export function remapEvidenceIndexes(raw: unknown, shown: { signals?: readonly number[]; history?: readonly number[] }): unknown {
  if ((shown.signals === undefined && shown.history === undefined) || !isRecord(raw) || !Array.isArray(raw.steps)) return raw;
  return {
    ...raw,
    steps: raw.steps.map((step: unknown) =>
      isRecord(step) && Array.isArray(step.evidence) ? { ...step, evidence: step.evidence.map((e: unknown) => remapOne(e, shown)) } : step,
    ),
  };
}

function remapOne(item: unknown, shown: { signals?: readonly number[]; history?: readonly number[] }): unknown {
  if (!isRecord(item) || typeof item.index !== 'number' || !Number.isInteger(item.index)) return item;
  const map = item.source === 'SIGNAL' ? shown.signals : item.source === 'HISTORY' ? shown.history : undefined;
  if (map === undefined) return item;
  return { ...item, index: map[item.index] ?? -1 };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
