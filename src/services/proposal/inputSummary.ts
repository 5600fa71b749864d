import type { AccountFacts } from './accountFacts.js';
import { sanitizeText } from './sanitizeText.js';

/** Keys listed per object at most, and their length: the summary stays small whatever comes in. */
export const MAX_SUMMARY_KEYS = 20;
const MAX_KEY_CHARS = 64;

/**
 * What the audit says about a proposal's input: counts and key names, never the payloads (they
 * may be large or sensitive, and the ledger keeps entries forever).
 */
export interface InputSummary {
  signals_count: number;
  history_count: number;
  /** Known signal types with their counts. */
  signal_types: Record<string, number>;
  unknown_signal_types_count: number;
  malformed_signals_count: number;
  posture_keys: string[];
  tenant_goals_keys: string[];
}

export function summarizeInput(
  input: { signals?: readonly unknown[]; history?: readonly unknown[]; posture?: Record<string, unknown>; tenant_goals?: Record<string, unknown> },
  facts: AccountFacts,
): InputSummary {
  return {
    signals_count: input.signals?.length ?? 0,
    history_count: input.history?.length ?? 0,
    signal_types: { ...facts.signal_counts },
    unknown_signal_types_count: facts.unknown_signal_types,
    malformed_signals_count: facts.malformed_signals,
    posture_keys: boundedKeys(input.posture),
    tenant_goals_keys: boundedKeys(input.tenant_goals),
  };
}

/** Sorted, cleaned, at most MAX_SUMMARY_KEYS; a last "…(+n more)" entry says how many were left out. */
function boundedKeys(value: Record<string, unknown> | undefined): string[] {
  const keys = Object.keys(value ?? {})
    .map((k) => sanitizeText(k, MAX_KEY_CHARS))
    .sort();
  return keys.length <= MAX_SUMMARY_KEYS ? keys : [...keys.slice(0, MAX_SUMMARY_KEYS), `…(+${keys.length - MAX_SUMMARY_KEYS} more)`];
}
