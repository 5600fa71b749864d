import { EVIDENCE_SOURCES, MAX_EVIDENCE_FIELD_CHARS, MAX_EVIDENCE_PER_STEP, type EvidenceSource, type StepEvidence } from '../../domain/plan.js';
import { sanitizeText } from './sanitizeText.js';

/** The proposal's input as evidence points into it. */
export interface EvidenceContext {
  posture?: Record<string, unknown>;
  signals?: readonly unknown[];
  history?: readonly unknown[];
  tenant_goals?: Record<string, unknown>;
}

export const EVIDENCE_DROP_REASONS = [
  'malformed_evidence',
  'unknown_source',
  'index_out_of_range',
  'unknown_field',
  'duplicate_evidence',
  'too_many_evidence',
] as const;
export type EvidenceDropReason = (typeof EVIDENCE_DROP_REASONS)[number];

/** Evidence removed from a step (the step stays), as the audit reports it. */
export interface DroppedEvidence {
  action_type: string;
  source: string | null;
  index: number | null;
  field: string | null;
  reason: EvidenceDropReason;
}

/** How much of a bad source or field the report repeats. */
const MAX_REPORTED_CHARS = 64;

/**
 * Keeps the evidence items that point at a real element of the input (docs/proposals.md, "Explained
 * proposals"): signals[index] / history[index] (and, with a field, that field of the item),
 * posture[field], tenant_goals[field]. Only own keys count, so "__proto__" or "toString" point
 * at nothing. An index on POSTURE or TENANT_GOALS means nothing and is ignored. Pure; never throws.
 */
export function checkEvidence(raw: unknown, context: EvidenceContext, actionType: string): { evidence: StepEvidence[]; dropped: DroppedEvidence[] } {
  const evidence: StepEvidence[] = [];
  const dropped: DroppedEvidence[] = [];
  if (raw === undefined || raw === null) return { evidence, dropped };
  const items = Array.isArray(raw) ? (raw as unknown[]) : [raw];
  for (const item of items) {
    const judged = judge(item, context);
    if ('reason' in judged) {
      dropped.push({ action_type: actionType, ...judged.report, reason: judged.reason });
    } else if (evidence.some((e) => e.source === judged.source && e.index === judged.index && e.field === judged.field)) {
      dropped.push({ action_type: actionType, ...judged, reason: 'duplicate_evidence' });
    } else if (evidence.length >= MAX_EVIDENCE_PER_STEP) {
      dropped.push({ action_type: actionType, ...judged, reason: 'too_many_evidence' });
    } else {
      evidence.push(judged);
    }
  }
  return { evidence, dropped };
}

type Judgement = StepEvidence | { reason: EvidenceDropReason; report: Pick<DroppedEvidence, 'source' | 'index' | 'field'> };

function judge(item: unknown, context: EvidenceContext): Judgement {
  if (!isRecord(item)) return { reason: 'malformed_evidence', report: { source: null, index: null, field: null } };
  const { source, index, field } = item;
  const report = {
    source: typeof source === 'string' ? sanitizeText(source, MAX_REPORTED_CHARS) : null,
    index: typeof index === 'number' && Number.isInteger(index) ? index : null,
    field: typeof field === 'string' ? sanitizeText(field, MAX_REPORTED_CHARS) : null,
  };
  if (typeof source !== 'string') return { reason: 'malformed_evidence', report };
  if (!(EVIDENCE_SOURCES as readonly string[]).includes(source)) return { reason: 'unknown_source', report };
  if (field !== undefined && field !== null && typeof field !== 'string') return { reason: 'malformed_evidence', report };
  const name = typeof field === 'string' && field !== '' ? field : null;
  if (name !== null && name.length > MAX_EVIDENCE_FIELD_CHARS) return { reason: 'unknown_field', report };
  const kind = source as EvidenceSource;
  if (kind === 'POSTURE' || kind === 'TENANT_GOALS') {
    const target = kind === 'POSTURE' ? context.posture : context.tenant_goals;
    if (name === null || !hasOwn(target, name)) return { reason: 'unknown_field', report };
    return { source: kind, index: null, field: name };
  }
  if (typeof index !== 'number' || !Number.isInteger(index)) return { reason: 'malformed_evidence', report };
  const list = kind === 'SIGNAL' ? context.signals : context.history;
  if (list === undefined || index < 0 || index >= list.length) return { reason: 'index_out_of_range', report };
  if (name !== null && !hasOwn(list[index], name)) return { reason: 'unknown_field', report };
  return { source: kind, index, field: name };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const hasOwn = (value: unknown, key: string): boolean => isRecord(value) && Object.hasOwn(value, key);
