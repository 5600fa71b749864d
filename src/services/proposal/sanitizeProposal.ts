import { z } from 'zod';
import { AppError } from '../../domain/errors.js';
import { MAX_STEP_RATIONALE_CHARS } from '../../domain/plan.js';
import type { PlanTypeConfig } from '../../domain/planTypeConfig.js';
import { checkEvidence, type DroppedEvidence, type EvidenceContext } from './checkEvidence.js';
import { MAX_OBJECTIVE_CHARS } from './objective.js';
import type { DropReason, DroppedStep, ProposalDraft, ProposedStep } from './proposalTypes.js';
import { sanitizeProse, sanitizeText } from './sanitizeText.js';
import { sequenceRank } from './sequenceOrder.js';

/** Step items looked at; the rest are reported once as too_many_steps. */
export const MAX_PROPOSED_STEPS = 20;
/** Dependency indexes looked at per step; the rest are reported once as too_many_dependencies. */
export const MAX_DEPENDENCIES_PER_STEP = 10;
export const MAX_RATIONALE_CHARS = MAX_STEP_RATIONALE_CHARS;
/** How much of a rejected action type the report repeats. */
const MAX_REPORTED_ACTION_TYPE_CHARS = 64;

/** Only these fields of a step are read; anything else the model sends is ignored. */
const StepItemSchema = z.object({
  action_type: z.string(),
  depends_on: z.unknown().optional(),
  rationale: z.unknown().optional(),
  evidence: z.unknown().optional(),
});

interface KeptStep {
  action_type: string;
  rationale: string | null;
  rawDependencies: unknown;
  rawEvidence: unknown;
}

/** sanitizeProposedSteps, refusing a proposal with no allowed step left (PROPOSAL_REJECTED). */
export function sanitizeProposal(raw: unknown, config: PlanTypeConfig, context: EvidenceContext = {}): ProposalDraft {
  const draft = sanitizeProposedSteps(raw, config, context);
  if (draft.steps.length === 0) throw proposalRejected(draft.dropped_steps);
  return draft;
}

export function proposalRejected(dropped: readonly DroppedStep[]): AppError {
  // droppedSteps is the extension clients read (docs/api.md, "Errors and codes"); dropped_steps stays for older clients.
  return new AppError('PROPOSAL_REJECTED', 'No allowed step is left after sanitizing the proposal', {
    droppedSteps: dropped.map((d) => ({ actionType: d.action_type, reason: d.reason })),
    dropped_steps: [...dropped],
  });
}

/**
 * Turns whatever a model returned into a proposal the Policy Gate accepts structurally (when it
 * has a step): only allowed action types, each once, in default-sequence order, with
 * dependencies that name kept steps earlier in that order (hence acyclic). Everything else the
 * model may send (plan status, plan type, ids, approval fields, step constraints, due dates) is
 * never read. Evidence is kept only where it points at a real element of `context`; the rest is
 * reported in dropped_evidence and the step stays. Every removal is reported. Pure; never throws.
 */
export function sanitizeProposedSteps(raw: unknown, config: PlanTypeConfig, context: EvidenceContext = {}): ProposalDraft {
  const dropped: DroppedStep[] = [];
  const droppedEvidence: DroppedEvidence[] = [];
  const drop = (action_type: string, reason: DropReason): void => {
    dropped.push({ action_type, reason });
  };
  const envelope = isRecord(raw) ? raw : {};
  const items = Array.isArray(envelope.steps) ? (envelope.steps as unknown[]) : [];
  const objective = typeof envelope.objective === 'string' ? sanitizeProse(envelope.objective, MAX_OBJECTIVE_CHARS) : '';

  // Which kept step each raw index stands for; a duplicate stands for the first of its type.
  const keptIndexOf = new Map<number, number>();
  const kept: KeptStep[] = [];
  items.slice(0, MAX_PROPOSED_STEPS).forEach((item, index) => {
    const parsed = StepItemSchema.safeParse(item);
    if (!parsed.success) return drop('(malformed)', 'malformed_step');
    const { action_type, depends_on, rationale, evidence } = parsed.data;
    if (!config.allowed_step_action_types.includes(action_type)) {
      return drop(sanitizeText(action_type, MAX_REPORTED_ACTION_TYPE_CHARS) || '(blank)', 'disallowed_action_type');
    }
    const first = kept.findIndex((s) => s.action_type === action_type);
    if (first !== -1) {
      keptIndexOf.set(index, first);
      return drop(action_type, 'duplicate_action_type');
    }
    keptIndexOf.set(index, kept.length);
    kept.push({
      action_type,
      rationale: typeof rationale === 'string' ? sanitizeProse(rationale, MAX_RATIONALE_CHARS) || null : null,
      rawDependencies: depends_on,
      rawEvidence: evidence,
    });
  });
  if (items.length > MAX_PROPOSED_STEPS) drop('*', 'too_many_steps');

  const edges = kept.map((step, self) => readDependencies(step, self, items.length, keptIndexOf, drop));

  // Default-sequence order (stable). A dependency may only point to an earlier step: an edge to a
  // later one is dropped, named a cycle when it closes one in the model's graph.
  const order = kept.map((_, i) => i).sort((a, b) => sequenceRank(config, kept[a]!.action_type) - sequenceRank(config, kept[b]!.action_type));
  const position = new Map(order.map((keptIndex, pos) => [keptIndex, pos]));
  const steps: ProposedStep[] = order.map((keptIndex) => {
    const step = kept[keptIndex]!;
    const depends_on = edges[keptIndex]!.flatMap((target) => {
      if (position.get(target)! < position.get(keptIndex)!) return [position.get(target)!];
      drop(step.action_type, reaches(edges, target, keptIndex) ? 'dependency_cycle' : 'dependency_against_sequence');
      return [];
    });
    const checked = checkEvidence(step.rawEvidence, context, step.action_type);
    droppedEvidence.push(...checked.dropped);
    return { action_type: step.action_type, depends_on, rationale: step.rationale, evidence: checked.evidence };
  });
  return { objective, steps, dropped_steps: dropped, dropped_evidence: droppedEvidence };
}

/** The kept-step indexes a step depends on, in the model's order, each once; bad ones reported. */
function readDependencies(
  step: KeptStep,
  self: number,
  itemCount: number,
  keptIndexOf: ReadonlyMap<number, number>,
  drop: (action_type: string, reason: DropReason) => void,
): number[] {
  const raw = step.rawDependencies;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    drop(step.action_type, 'invalid_dependency');
    return [];
  }
  const targets: number[] = [];
  for (const index of raw.slice(0, MAX_DEPENDENCIES_PER_STEP) as unknown[]) {
    if (typeof index !== 'number' || !Number.isInteger(index)) drop(step.action_type, 'invalid_dependency');
    else if (index < 0 || index >= itemCount) drop(step.action_type, 'dangling_dependency');
    else {
      const target = keptIndexOf.get(index);
      if (target === undefined) drop(step.action_type, 'dependency_on_dropped_step');
      else if (target === self) drop(step.action_type, 'self_dependency');
      else if (!targets.includes(target)) targets.push(target);
    }
  }
  if (raw.length > MAX_DEPENDENCIES_PER_STEP) drop(step.action_type, 'too_many_dependencies');
  return targets;
}

/** Whether `to` can be reached from `from` along dependency edges. */
function reaches(edges: readonly number[][], from: number, to: number): boolean {
  const seen = new Set<number>();
  const pending = [from];
  while (pending.length > 0) {
    const node = pending.pop()!;
    if (node === to) return true;
    if (seen.has(node)) continue;
    seen.add(node);
    pending.push(...edges[node]!);
  }
  return false;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
