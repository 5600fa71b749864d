import { z } from 'zod';
import { SUPPORT_SEVERITIES, type SupportSeverity } from '../../domain/enums.js';
import type { StepEvidence } from '../../domain/plan.js';

/**
 * Reads the account context vocabulary (docs/proposals.md, "The input vocabulary") out of
 * untrusted input. Anything that is not an object, names an unknown
 * signal type, or carries a field of the wrong type is ignored and counted, never thrown.
 */

export const KNOWN_SIGNAL_TYPES = ['RENEWAL_WINDOW', 'SUPPORT_RISK', 'USAGE_DROP', 'CHAMPION_LEFT', 'NPS_DETRACTOR'] as const;
export type KnownSignalType = (typeof KNOWN_SIGNAL_TYPES)[number];

export const HEALTH_LEVELS = ['HEALTHY', 'AT_RISK', 'CRITICAL'] as const;
export type Health = (typeof HEALTH_LEVELS)[number];

export { SUPPORT_SEVERITIES, type SupportSeverity };

const DAY_MS = 86_400_000;
/** About a century either way: bigger numbers are noise, not dates. */
const MAX_ABS_DAYS = 36_500;

/** An ISO date or date-time string; parsed to epoch milliseconds. */
export const IsoDate = z
  .string()
  .max(40)
  .regex(/^\d{4}-\d{2}-\d{2}/)
  .transform((text, ctx) => {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: 'not a date' });
      return z.NEVER;
    }
    return ms;
  });

const Days = z.number().min(-MAX_ABS_DAYS).max(MAX_ABS_DAYS);

export const SignalSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('RENEWAL_WINDOW'), days_to_renewal: Days.optional(), renewal_date: IsoDate.optional() }),
  z.object({ type: z.literal('SUPPORT_RISK'), severity: z.enum(SUPPORT_SEVERITIES).optional(), open_escalations: z.number().int().min(0).max(1_000_000).optional() }),
  z.object({ type: z.literal('USAGE_DROP'), percent: z.number().min(0).max(100).optional() }),
  z.object({ type: z.literal('CHAMPION_LEFT') }),
  z.object({ type: z.literal('NPS_DETRACTOR'), score: z.number().min(-100).max(100).optional() }),
]);
type Signal = z.infer<typeof SignalSchema>;

/** Posture fields are read one by one: a bad field is ignored, the rest still count. */
const PostureSchema = z
  .object({
    health: z.enum(HEALTH_LEVELS).optional().catch(undefined),
    renewal_date: IsoDate.optional().catch(undefined),
  })
  .catch({});

export const HistoryItemSchema = z.object({ action_type: z.string().max(100), at: IsoDate });

export interface AccountFacts {
  /** Calendar days (UTC) from today to the nearest known renewal; negative when overdue. */
  renewal_days: number | null;
  /** The renewal date as YYYY-MM-DD, when known. */
  renewal_date: string | null;
  health: Health | null;
  /** The largest usage drop reported, in percent. */
  usage_drop_percent: number | null;
  champion_left: boolean;
  nps_detractor: boolean;
  support_severity: SupportSeverity | null;
  open_escalations: number;
  /** The well-formed history entries (see requestedWithin); index is the position in the input. */
  history: ReadonlyArray<{ index: number; action_type: string; at_ms: number }>;
  /** Which input elements each fact came from, so a rule can cite exactly what made it fire. */
  sources: FactSources;
  signal_counts: Partial<Record<KnownSignalType, number>>;
  unknown_signal_types: number;
  malformed_signals: number;
}

export interface FactSources {
  /** The element that gave the nearest renewal. */
  renewal: StepEvidence | null;
  usage_drops: { index: number; percent: number }[];
  champion_left: number[];
  nps_detractor: number[];
  support_risks: { index: number; severity: SupportSeverity | null; open_escalations: number }[];
}

export const signalEvidence = (index: number): StepEvidence => ({ source: 'SIGNAL', index, field: null });
export const postureEvidence = (field: string): StepEvidence => ({ source: 'POSTURE', index: null, field });

export interface AccountContext {
  posture?: Record<string, unknown>;
  signals?: readonly unknown[];
  history?: readonly unknown[];
}

export function readAccountFacts(context: AccountContext, now: Date): AccountFacts {
  const facts: AccountFacts = {
    renewal_days: null,
    renewal_date: null,
    health: null,
    usage_drop_percent: null,
    champion_left: false,
    nps_detractor: false,
    support_severity: null,
    open_escalations: 0,
    history: readHistory(context.history ?? []),
    sources: { renewal: null, usage_drops: [], champion_left: [], nps_detractor: [], support_risks: [] },
    signal_counts: {},
    unknown_signal_types: 0,
    malformed_signals: 0,
  };
  const renewals: Renewal[] = [];
  (context.signals ?? []).forEach((item, index) => {
    const kind = classifySignal(item);
    if (kind === 'malformed') facts.malformed_signals++;
    else if (kind === 'unknown') facts.unknown_signal_types++;
    else {
      facts.signal_counts[kind.type] = (facts.signal_counts[kind.type] ?? 0) + 1;
      applySignal(facts, kind, index, renewals, now);
    }
  });
  const posture = PostureSchema.parse(context.posture);
  facts.health = posture.health ?? null;
  // Signals are fresher than posture: posture's date only counts when no signal gave one.
  if (renewals.length === 0 && posture.renewal_date !== undefined) {
    renewals.push({ ...renewalFromDate(posture.renewal_date, now), from: postureEvidence('renewal_date') });
  }
  // Stable sort: of two equally near renewals, the first in the input is cited.
  const nearest = renewals.sort((a, b) => a.days - b.days)[0];
  if (nearest) {
    facts.renewal_days = nearest.days;
    facts.renewal_date = nearest.date;
    facts.sources.renewal = nearest.from;
  }
  return facts;
}

/** Whether history shows `actionType` at or after `days` days before now (future entries count). */
export function requestedWithin(facts: AccountFacts, actionType: string, days: number, now: Date): boolean {
  const since = now.getTime() - days * DAY_MS;
  return facts.history.some((h) => h.action_type === actionType && h.at_ms >= since);
}

export type SignalClass = Signal | 'unknown' | 'malformed';

export function classifySignal(item: unknown): SignalClass {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return 'malformed';
  const type: unknown = (item as { type?: unknown }).type;
  if (typeof type !== 'string') return 'malformed';
  if (!(KNOWN_SIGNAL_TYPES as readonly string[]).includes(type)) return 'unknown';
  const parsed = SignalSchema.safeParse(item);
  return parsed.success ? parsed.data : 'malformed';
}

interface Renewal {
  days: number;
  date: string;
  from: StepEvidence;
}

function applySignal(facts: AccountFacts, signal: Signal, index: number, renewals: Renewal[], now: Date): void {
  const { sources } = facts;
  switch (signal.type) {
    case 'RENEWAL_WINDOW': {
      const renewal = renewalFromWindow(signal, now);
      if (renewal) renewals.push({ ...renewal, from: signalEvidence(index) });
      return;
    }
    case 'SUPPORT_RISK':
      if (signal.severity && severityRank(signal.severity) > severityRank(facts.support_severity)) {
        facts.support_severity = signal.severity;
      }
      facts.open_escalations = Math.max(facts.open_escalations, signal.open_escalations ?? 0);
      sources.support_risks.push({ index, severity: signal.severity ?? null, open_escalations: signal.open_escalations ?? 0 });
      return;
    case 'USAGE_DROP':
      if (signal.percent !== undefined) {
        facts.usage_drop_percent = Math.max(facts.usage_drop_percent ?? 0, signal.percent);
        sources.usage_drops.push({ index, percent: signal.percent });
      }
      return;
    case 'CHAMPION_LEFT':
      facts.champion_left = true;
      sources.champion_left.push(index);
      return;
    case 'NPS_DETRACTOR':
      facts.nps_detractor = true;
      sources.nps_detractor.push(index);
      return;
  }
}

/** An explicit days_to_renewal decides the window; renewal_date names the day (or gives both). */
function renewalFromWindow(signal: { days_to_renewal?: number; renewal_date?: number }, now: Date): Omit<Renewal, 'from'> | null {
  if (signal.renewal_date !== undefined) {
    const fromDate = renewalFromDate(signal.renewal_date, now);
    return signal.days_to_renewal === undefined ? fromDate : { days: Math.floor(signal.days_to_renewal), date: fromDate.date };
  }
  if (signal.days_to_renewal === undefined) return null;
  const days = Math.floor(signal.days_to_renewal);
  return { days, date: isoDay(startOfUtcDay(now.getTime()) + days * DAY_MS) };
}

function renewalFromDate(ms: number, now: Date): Omit<Renewal, 'from'> {
  return { days: Math.round((startOfUtcDay(ms) - startOfUtcDay(now.getTime())) / DAY_MS), date: isoDay(ms) };
}

function readHistory(items: readonly unknown[]): { index: number; action_type: string; at_ms: number }[] {
  return items.flatMap((item, index) => {
    const parsed = HistoryItemSchema.safeParse(item);
    return parsed.success ? [{ index, action_type: parsed.data.action_type, at_ms: parsed.data.at }] : [];
  });
}

const severityRank = (severity: SupportSeverity | null): number =>
  severity === null ? -1 : SUPPORT_SEVERITIES.indexOf(severity);

const startOfUtcDay = (ms: number): number => Math.floor(ms / DAY_MS) * DAY_MS;

const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
