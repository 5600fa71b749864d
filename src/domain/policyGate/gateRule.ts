import type { GateReasonCode } from '../enums.js';
import type { GateablePlan } from '../plan.js';
import type { GateReason } from './gateTypes.js';
import type { PlanTypeConfig } from '../planTypeConfig.js';

/**
 * One rule of the gate, as data: the code it reports, the sentence that documents it
 * (docs/policy-gate.md is rendered from these), and the check itself. A gate is an ordered
 * list of rules, so the order of reasons is the order of the list.
 */
export interface GateRule<Input> {
  code: GateReasonCode;
  rule: string;
  /** One message per offending thing, in step order; empty when the rule holds. */
  check(input: Input): readonly string[];
}

export function runRules<Input>(rules: readonly GateRule<Input>[], input: Input): GateReason[] {
  return rules.flatMap((r) => r.check(input).map((message) => ({ code: r.code, message })));
}

export type GateStep = GateablePlan['steps'][number];

/** A plan as the rules read it: its config (null when the type is unknown) and its steps in step order. */
export interface PlanView {
  plan: GateablePlan;
  config: PlanTypeConfig | null;
  /** By `sequence`; ties, and steps without one (placed last), keep their position in the array. */
  steps: readonly GateStep[];
  /** How messages name a step: its action type, plus its step_id when the action type repeats. */
  label(step: GateStep): string;
}

export function viewPlan(plan: GateablePlan, config: PlanTypeConfig | null): PlanView {
  const steps = plan.steps
    .map((step, index) => ({ step, index }))
    .sort((a, b) => sequenceKey(a.step) - sequenceKey(b.step) || a.index - b.index)
    .map(({ step }) => step);
  const timesUsed = countBy(steps, (s) => s.action_type);
  const label = (step: GateStep): string =>
    timesUsed.get(step.action_type) === 1 ? step.action_type : `${step.action_type} (step ${step.step_id})`;
  return { plan, config, steps, label };
}

/** A missing or non-finite sequence sorts last; MAX_VALUE (not Infinity) so two such steps tie. */
const sequenceKey = (step: GateStep): number => {
  const sequence = step.sequence ?? NaN;
  return Number.isFinite(sequence) ? sequence : Number.MAX_VALUE;
};

/** Occurrences of each key, keyed in first-seen order. */
export function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}
