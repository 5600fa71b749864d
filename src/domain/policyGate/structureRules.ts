import { findDependencyCycles } from './dependencyCycles.js';
import { countBy, type GateRule, type GateStep, type PlanView } from './gateRule.js';

/**
 * The structural rules, all reported as STEP_ORDER_VIOLATION (the gate's reason codes, docs/policy-gate.md,
 * get no new ones), in the order they run. Rules that need the plan type's config say nothing when the
 * type is unknown: INVALID_PLAN_TYPE already covers that plan, and the other rules still run.
 */
export const STRUCTURE_RULES: readonly GateRule<PlanView>[] = [
  {
    code: 'STEP_ORDER_VIOLATION',
    rule: 'The plan has at least one step.',
    check: ({ steps }) => (steps.length === 0 ? ['Plan has no steps'] : []),
  },
  {
    code: 'STEP_ORDER_VIOLATION',
    rule: 'Every step_id is unique within the plan.',
    check: ({ steps }) =>
      repeated(steps, (s) => s.step_id).map(([id, times]) => `Duplicate step_id "${id}" (used by ${times} steps)`),
  },
  {
    code: 'STEP_ORDER_VIOLATION',
    rule: "Every action_type is one of the plan type's allowed_step_action_types.",
    check: ({ steps, config, label }) =>
      config === null
        ? []
        : steps
            .filter((s) => !config.allowed_step_action_types.includes(s.action_type))
            .map((s) => `Disallowed step action_type ${JSON.stringify(s.action_type)} for plan type ${config.plan_type} (${label(s)})`),
  },
  {
    code: 'STEP_ORDER_VIOLATION',
    rule: 'Every action_type appears at most once within the plan.',
    check: ({ steps }) =>
      repeated(steps, (s) => s.action_type).map(
        ([type, times]) => `Duplicate action_type ${JSON.stringify(type)} (used by ${times} steps); each may appear once per plan`,
      ),
  },
  {
    code: 'STEP_ORDER_VIOLATION',
    rule: 'Every dependency names a step_id of the plan.',
    check: ({ steps, label }) => {
      const ids = new Set(steps.map((s) => s.step_id));
      return steps.flatMap((s) =>
        dependenciesOf(s)
          .filter((d) => !ids.has(d))
          .map((d) => `Step ${label(s)} depends on unknown step_id "${d}"`),
      );
    },
  },
  {
    code: 'STEP_ORDER_VIOLATION',
    rule: 'No step depends on itself.',
    check: ({ steps, label }) =>
      steps.filter((s) => dependenciesOf(s).includes(s.step_id)).map((s) => `Step ${label(s)} depends on itself`),
  },
  {
    code: 'STEP_ORDER_VIOLATION',
    rule: 'Dependencies form no cycle (one example cycle is named per tangle; arrows read "depends on").',
    check: ({ steps, label }) => {
      // A repeated step_id is one node carrying the dependencies of all its steps.
      const stepById = new Map<string, GateStep>();
      const edges = new Map<string, string[]>();
      for (const s of steps) {
        if (!stepById.has(s.step_id)) stepById.set(s.step_id, s);
        edges.set(s.step_id, [...(edges.get(s.step_id) ?? []), ...dependenciesOf(s)]);
      }
      return findDependencyCycles([...stepById.keys()], (id) => edges.get(id)!).map(
        (cycle) => `Dependency cycle: ${cycle.map((id) => label(stepById.get(id)!)).join(' -> ')}`,
      );
    },
  },
  {
    code: 'STEP_ORDER_VIOLATION',
    rule:
      "Steps in step order keep the relative order of the plan type's default_sequence " +
      '(relative only: steps may be omitted; action types outside it are not ordered).',
    check: ({ steps, config, label }) => {
      if (config === null) return [];
      const rank = (s: GateStep): number => config.default_sequence.indexOf(s.action_type);
      const ranked = steps.filter((s) => rank(s) >= 0);
      return ranked.flatMap((s, i) => {
        const before = ranked.slice(0, i).find((earlier) => rank(earlier) > rank(s));
        return before === undefined
          ? []
          : [
              `Step ${label(s)} (${sequenceText(s)}) must come before step ${label(before)} (${sequenceText(before)}); ` +
                `${config.plan_type} order is ${config.default_sequence.join(' -> ')}`,
            ];
      });
    },
  },
  {
    code: 'STEP_ORDER_VIOLATION',
    rule: 'In step order, due dates never decrease (a step without dueAt is not ordered), like the default_sequence they follow.',
    check: ({ steps, label }) => {
      const dated = steps.filter((s) => s.due_at instanceof Date && !Number.isNaN(s.due_at.getTime()));
      return dated.flatMap((s, i) => {
        const before = dated.slice(0, i).find((earlier) => earlier.due_at!.getTime() > s.due_at!.getTime());
        return before === undefined
          ? []
          : [
              `Step ${label(s)} (${sequenceText(s)}, due ${s.due_at!.toISOString()}) is due before step ${label(before)} ` +
                `(${sequenceText(before)}, due ${before.due_at!.toISOString()}), which comes earlier`,
            ];
      });
    },
  },
];

const dependenciesOf = (step: GateStep): readonly string[] => [...new Set(step.dependencies ?? [])];

const sequenceText = (step: GateStep): string =>
  step.sequence === undefined ? 'no sequence' : `sequence ${step.sequence}`;

/** Keys used more than once, with their counts, in first-seen order. */
const repeated = (steps: readonly GateStep[], key: (s: GateStep) => string): [string, number][] =>
  [...countBy(steps, key)].filter(([, times]) => times > 1);
