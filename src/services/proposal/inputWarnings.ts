import { HEALTH_LEVELS, HistoryItemSchema, IsoDate, KNOWN_SIGNAL_TYPES, SignalSchema, type AccountContext } from './accountFacts.js';
import { sanitizeText } from './sanitizeText.js';

/**
 * What in a proposal's input was ignored or could not be read (docs/proposals.md, "Explained
 * proposals"): one warning per element, with its path, so nothing is dropped silently.
 */
export interface InputWarning {
  code: InputWarningCode;
  message: string;
  /** e.g. signals[2], history[0].at, posture.renewal_date; null for the input as a whole. */
  path: string | null;
}

export const INPUT_WARNING_CODES = [
  'UNKNOWN_SIGNAL_TYPE',
  'MALFORMED_SIGNAL',
  'UNKNOWN_SIGNAL_FIELD',
  'UNREADABLE_DATE',
  'MALFORMED_HISTORY_ITEM',
  'UNREADABLE_POSTURE_FIELD',
  'TRUNCATED_FOR_MODEL',
  'TOO_MANY_WARNINGS',
] as const;
export type InputWarningCode = (typeof INPUT_WARNING_CODES)[number];

/** Warnings listed at most; one TOO_MANY_WARNINGS says how many more there were. */
export const MAX_WARNINGS = 50;
const MAX_QUOTED_CHARS = 40;

const DATE_FIELDS = new Set(['renewal_date', 'at']);

const FIELDS_BY_TYPE: ReadonlyMap<string, readonly string[]> = new Map(
  SignalSchema.options.map((option) => [String(option.shape.type.value), Object.keys(option.shape)]),
);

export function collectInputWarnings(context: AccountContext): InputWarning[] {
  const warnings: InputWarning[] = [];
  (context.signals ?? []).forEach((item, i) => warnings.push(...signalWarnings(item, `signals[${i}]`)));
  (context.history ?? []).forEach((item, i) => warnings.push(...historyWarnings(item, `history[${i}]`)));
  warnings.push(...postureWarnings(context.posture));
  return bounded(warnings);
}

/** Cut to MAX_WARNINGS, the last one saying how many were left out. */
export function bounded(warnings: InputWarning[]): InputWarning[] {
  if (warnings.length <= MAX_WARNINGS) return warnings;
  const more = warnings.length - (MAX_WARNINGS - 1);
  return [...warnings.slice(0, MAX_WARNINGS - 1), { code: 'TOO_MANY_WARNINGS', message: `${more} more warnings were left out`, path: null }];
}

function signalWarnings(item: unknown, path: string): InputWarning[] {
  if (!isRecord(item)) {
    return [{ code: 'MALFORMED_SIGNAL', path, message: `${path} ignored: ${describeNonObject(item)}` }];
  }
  const type = item.type;
  if (typeof type !== 'string') {
    return [{ code: 'MALFORMED_SIGNAL', path: `${path}.type`, message: `${path} ignored: it has no "type" string` }];
  }
  const fields = FIELDS_BY_TYPE.get(type);
  if (fields === undefined) {
    const hint = closestKnownType(type);
    return [
      {
        code: 'UNKNOWN_SIGNAL_TYPE',
        path,
        message: `${path} ignored: unknown signal type ${quote(type)}${hint === null ? '' : ` (did you mean ${hint}?)`}; known types: ${KNOWN_SIGNAL_TYPES.join(', ')}`,
      },
    ];
  }
  const warnings: InputWarning[] = [];
  const parsed = SignalSchema.safeParse(item);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      // The type is known, so every issue is about one of its fields.
      const field = String(issue.path[0]);
      const fieldPath = `${path}.${field}`;
      warnings.push(
        DATE_FIELDS.has(field)
          ? { code: 'UNREADABLE_DATE', path: fieldPath, message: `${path} ignored: ${field} ${quote(item[field])} is not an ISO date (YYYY-MM-DD…)` }
          : { code: 'MALFORMED_SIGNAL', path: fieldPath, message: `${path} ignored: ${field} ${quote(item[field])} is not valid (${sanitizeText(issue.message, 80)})` },
      );
    }
  }
  for (const key of Object.keys(item).filter((k) => !fields.includes(k))) {
    warnings.push({
      code: 'UNKNOWN_SIGNAL_FIELD',
      path: `${path}.${sanitizeText(key, MAX_QUOTED_CHARS)}`,
      message: `${type} has no field ${quote(key)} (ignored); its fields: ${fields.filter((f) => f !== 'type').join(', ') || 'none'}`,
    });
  }
  return warnings;
}

function historyWarnings(item: unknown, path: string): InputWarning[] {
  if (!isRecord(item)) return [{ code: 'MALFORMED_HISTORY_ITEM', path, message: `${path} ignored: ${describeNonObject(item)}` }];
  if (HistoryItemSchema.safeParse(item).success) return [];
  if (typeof item.action_type !== 'string' || item.action_type.length > 100) {
    return [{ code: 'MALFORMED_HISTORY_ITEM', path: `${path}.action_type`, message: `${path} ignored: it needs an "action_type" string` }];
  }
  return [{ code: 'UNREADABLE_DATE', path: `${path}.at`, message: `${path} ignored: at ${quote(item.at)} is not an ISO date-time` }];
}

function postureWarnings(posture: Record<string, unknown> | undefined): InputWarning[] {
  if (posture === undefined) return [];
  const warnings: InputWarning[] = [];
  if (posture.health !== undefined && posture.health !== null && !(HEALTH_LEVELS as readonly unknown[]).includes(posture.health)) {
    warnings.push({
      code: 'UNREADABLE_POSTURE_FIELD',
      path: 'posture.health',
      message: `posture.health ${quote(posture.health)} ignored: it is one of ${HEALTH_LEVELS.join(', ')}`,
    });
  }
  if (posture.renewal_date !== undefined && posture.renewal_date !== null && !IsoDate.safeParse(posture.renewal_date).success) {
    warnings.push({
      code: 'UNREADABLE_DATE',
      path: 'posture.renewal_date',
      message: `posture.renewal_date ${quote(posture.renewal_date)} ignored: it is not an ISO date (YYYY-MM-DD…)`,
    });
  }
  return warnings;
}

function describeNonObject(item: unknown): string {
  if (typeof item === 'string') {
    const trimmed = item.trim();
    if (trimmed.startsWith('[') || trimmed.startsWith('{')) return 'it is JSON text in a string; send the object (or the list) itself, not a string';
    if (KNOWN_SIGNAL_TYPES.some((t) => t === trimmed)) return `it is the string ${quote(item)}; send an object such as {"type": "${trimmed}"}`;
    return `it is the string ${quote(item)}, not an object (a list sent as one string arrives as a one-item list)`;
  }
  return `it is ${item === null ? 'null' : Array.isArray(item) ? 'a list' : `a ${typeof item}`}, not an object`;
}

/** The known type one or two edits away (or equal but for case), for a "did you mean" (the known types are far apart). */
function closestKnownType(type: string): string | null {
  const upper = type.toUpperCase().trim();
  return KNOWN_SIGNAL_TYPES.find((known) => editDistance(upper, known) <= 2) ?? null;
}

/** Levenshtein distance, bounded work: long strings are not worth a hint. */
function editDistance(a: string, b: string): number {
  if (a.length > 64) return Number.MAX_SAFE_INTEGER;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

const quote = (value: unknown): string => {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  const cut = sanitizeText(text, MAX_QUOTED_CHARS);
  return cut.length < text.length ? `${cut}…` : cut;
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
