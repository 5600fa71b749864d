import { canonicalEncode } from './canonicalEncoding.js';
import { toPlanTypeConfigInput } from './playbookConfig.js';
import type { PlanTypeConfig } from './planTypeConfig.js';
import { sha256 } from './sha256.js';

// What a playbook version says, as one keyed document: the form its content hash covers and
// the form two versions are compared in (a step's schedule and description keyed by its action
// type, so a change reads `stepSchedule.ESCALATE_SUPPORT_RISK.dueDaysBeforeRenewal`).

export interface PlaybookDocument {
  planType: string;
  allowedStepActionTypes: readonly string[];
  defaultSequence: readonly string[];
  objectiveTemplate: string;
  expiresAtDaysFromCreation: number;
  stepSchedule: Record<string, { ownerRole: string; dueDaysBeforeRenewal: number; dueDaysAfterCreation: number }>;
  stepDescriptions: Record<string, string>;
  gatePolicy: { humanTouchActionTypes: readonly string[]; elevatedRiskActionTypes: readonly string[]; elevatedApproverRole: string };
  rules: { renewalWindowDays: number; usageDropPercent: number; meetingCooldownDays: number; escalationMinSeverity: string };
}

export interface PlaybookChange {
  path: string;
  /** Absent (undefined) when the path did not exist before. */
  before: unknown;
  after: unknown;
}

export function playbookDocument(config: PlanTypeConfig): PlaybookDocument {
  // The input form, with the per-step lists keyed by action type.
  const { stepSchedule, stepDescriptions, gatePolicy, rules, ...rest } = toPlanTypeConfigInput(config);
  const schedule: PlaybookDocument['stepSchedule'] = {};
  for (const { actionType, ...s } of stepSchedule) schedule[actionType] = s;
  const descriptions: PlaybookDocument['stepDescriptions'] = {};
  for (const d of stepDescriptions!) descriptions[d.actionType] = d.description;
  return { planType: config.plan_type, ...rest, stepSchedule: schedule, stepDescriptions: descriptions, gatePolicy: gatePolicy!, rules: rules! } as PlaybookDocument;
}

const HASH_DOMAIN = 'playbook-content/1\n';
const utf8 = new TextEncoder();

/** SHA-256 (hex) of the version's content in canonical encoding; the version number is not part of it. */
export function playbookContentHash(config: PlanTypeConfig): string {
  const digest = sha256(utf8.encode(HASH_DOMAIN + canonicalEncode(playbookDocument(config))));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The leaf paths where two versions differ, in document order (a path only one side has is
 * listed with the other side undefined). Lists are leaves: a reordered list is one change.
 */
export function diffPlaybooks(from: PlanTypeConfig, to: PlanTypeConfig): PlaybookChange[] {
  const changes: PlaybookChange[] = [];
  walk(playbookDocument(from), playbookDocument(to), '', changes);
  return changes;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function walk(before: unknown, after: unknown, path: string, out: PlaybookChange[]): void {
  if (isRecord(before) && isRecord(after)) {
    const keys = [...Object.keys(before), ...Object.keys(after).filter((k) => !(k in before))];
    for (const key of keys) walk(before[key], after[key], path === '' ? key : `${path}.${key}`, out);
    return;
  }
  if (isRecord(before) || isRecord(after)) {
    // A whole subtree appeared or went away: each of its leaves is a change.
    const side = (isRecord(before) ? before : after) as Record<string, unknown>;
    for (const key of Object.keys(side)) {
      walk(isRecord(before) ? before[key] : before, isRecord(after) ? after[key] : after, `${path}.${key}`, out);
    }
    return;
  }
  if (canonicalEncode(before) !== canonicalEncode(after)) out.push({ path, before, after });
}
