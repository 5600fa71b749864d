import type { PlanTypeConfig } from '../../domain/planTypeConfig.js';

/**
 * Position of an action type in the plan type's default sequence; types outside it rank after
 * every listed type (the gate does not order them), keeping their relative order under a
 * stable sort.
 */
export function sequenceRank(config: PlanTypeConfig, actionType: string): number {
  const rank = config.default_sequence.indexOf(actionType);
  return rank === -1 ? config.default_sequence.length : rank;
}
