import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { RENEWAL_DEFENSE_CONFIG } from '../../src/domain/planTypeConfig.js';
import type { GateablePlan } from '../../src/domain/plan.js';
import type { ApprovalContext, GateReason } from '../../src/domain/policyGate/gateTypes.js';
import { evaluateCanActivate, validateForApproval, validateStructure } from '../../src/domain/policyGate/PlanPolicyGate.js';
import { planOf, TENANT, type GateStep } from './planFixtures.js';

// A fixed seed keeps CI reproducible; a failure prints the counterexample and its path.
fc.configureGlobal({ seed: 20260130, numRuns: 400 });

const { allowed_step_action_types: ALLOWED, default_sequence: DEFAULT_ORDER } = RENEWAL_DEFENSE_CONFIG;
const IDS = ['a', 'b', 'c', 'd', 'e'];

const arbitraryStep: fc.Arbitrary<GateStep> = fc.record(
  {
    step_id: fc.constantFrom(...IDS),
    action_type: fc.constantFrom(...ALLOWED, 'FREE_MONEY', 'prep_renewal_brief'),
    sequence: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant(undefined), fc.constant(NaN)),
    dependencies: fc.array(fc.constantFrom(...IDS, 'ghost'), { maxLength: 3 }),
    constraints: fc.record({ human_touch_owner: fc.oneof(fc.constant('alice'), fc.constant(' '), fc.integer()) }),
  },
  { requiredKeys: ['step_id', 'action_type'] },
);

const arbitraryPlan: fc.Arbitrary<GateablePlan> = fc
  .record({
    plan_type: fc.constantFrom('RENEWAL_DEFENSE', 'RENEWAL_DEFENSE', 'renewal_defense', 'OTHER'),
    steps: fc.array(arbitraryStep, { maxLength: 6 }),
  })
  .map(({ plan_type, steps }) => planOf(steps, { plan_type }));

const arbitraryContext: fc.Arbitrary<ApprovalContext> = fc.record(
  {
    policy: fc.record(
      {
        human_touch_action_types: fc.subarray([...ALLOWED]),
        elevated_risk_action_types: fc.subarray([...ALLOWED]),
        elevated_approver_role: fc.constantFrom('plan-approver-elevated', 'cro'),
      },
      { requiredKeys: [] },
    ),
    approver_roles: fc.subarray(['plan-approver', 'plan-approver-elevated', 'cro']),
  },
  { requiredKeys: [] },
);

// ---- Oracles: brute-force restatements of the rules, independent of the gate's code. ----

const countsOf = (values: readonly string[]): Map<string, number> => {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
};
const repeatedKeys = (values: readonly string[]): string[] => [...countsOf(values)].filter(([, n]) => n > 1).map(([k]) => k);

/** Step ids that reach themselves through a path of known, non-self dependencies (transitive closure). */
function idsOnCycles(steps: readonly GateStep[]): string[] {
  const ids = [...new Set(steps.map((s) => s.step_id))];
  const reach = new Map(ids.map((id) => [id, new Set<string>()]));
  for (const s of steps)
    for (const d of s.dependencies ?? []) if (d !== s.step_id && reach.has(d)) reach.get(s.step_id)!.add(d);
  for (const k of ids) for (const i of ids) if (reach.get(i)!.has(k)) for (const j of reach.get(k)!) reach.get(i)!.add(j);
  return ids.filter((id) => reach.get(id)!.has(id));
}

const sequenceKey = (s: GateStep): number => (Number.isFinite(s.sequence) ? s.sequence! : Number.MAX_VALUE);

/** Some pair where the earlier step (by sequence, then position) has the later default-order rank. */
function breaksDefaultOrder(steps: readonly GateStep[]): boolean {
  const rank = (s: GateStep): number => DEFAULT_ORDER.indexOf(s.action_type);
  return steps.some((x, i) =>
    steps.some((y, j) => {
      const xFirst = sequenceKey(x) < sequenceKey(y) || (sequenceKey(x) === sequenceKey(y) && i < j);
      return xFirst && rank(y) >= 0 && rank(x) > rank(y);
    }),
  );
}

function expectedStructure(plan: GateablePlan) {
  const known = plan.plan_type === 'RENEWAL_DEFENSE';
  const ids = new Set(plan.steps.map((s) => s.step_id));
  return {
    invalidType: !known,
    empty: plan.steps.length === 0,
    duplicateIds: repeatedKeys(plan.steps.map((s) => s.step_id)),
    disallowed: known ? plan.steps.filter((s) => !ALLOWED.includes(s.action_type)).length : 0,
    duplicateTypes: repeatedKeys(plan.steps.map((s) => s.action_type)),
    dangling: plan.steps.reduce((n, s) => n + new Set((s.dependencies ?? []).filter((d) => !ids.has(d))).size, 0),
    selfDependent: plan.steps.filter((s) => (s.dependencies ?? []).includes(s.step_id)).length,
    cyclic: idsOnCycles(plan.steps).length > 0,
    outOfOrder: known && breaksDefaultOrder(plan.steps),
  };
}

const messagesLike = (reasons: readonly GateReason[], pattern: RegExp): string[] =>
  reasons.filter((r) => r.code === 'STEP_ORDER_VIOLATION' && pattern.test(r.message)).map((r) => r.message);

const REASON_RANK = ['INVALID_PLAN_TYPE', 'STEP_ORDER_VIOLATION', 'HUMAN_TOUCH_REQUIRED', 'RISK_ELEVATED'];

// ---- Plans that are valid by construction, and ways to break them. ----

/** A non-empty subset of the default order, each step depending only on earlier ones, array shuffled. */
const arbitraryDagInDefaultOrder: fc.Arbitrary<GateStep[]> = fc
  .subarray([...DEFAULT_ORDER], { minLength: 1 })
  .chain((types) =>
    fc.tuple(
      fc.constant(types),
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: types.length, maxLength: types.length }),
      fc.tuple(...types.map((_, i) => fc.subarray(types.slice(0, i).map((_t, j) => `s${j}`)))),
      fc.shuffledSubarray(types.map((_, i) => i), { minLength: types.length, maxLength: types.length }),
    ),
  )
  .map(([types, gaps, deps, order]) => {
    let sequence = 0;
    const steps = types.map((action_type, i) => ({
      step_id: `s${i}`,
      action_type,
      sequence: (sequence += gaps[i]!),
      dependencies: deps[i]!,
    }));
    return order.map((i) => steps[i]!);
  });

/** n nodes with distinct ids and types, dependencies only on earlier nodes (so acyclic). */
const arbitraryLargeDag = (maxNodes: number): fc.Arbitrary<GateStep[]> =>
  fc.integer({ min: 1, max: maxNodes }).chain((n) =>
    fc
      .tuple(...Array.from({ length: n }, (_, i) => fc.subarray(Array.from({ length: i }, (_v, j) => `n${j}`))))
      .map((deps) => deps.map((dependencies, i) => ({ step_id: `n${i}`, action_type: `T${i}`, sequence: i + 1, dependencies }))),
  );

/** Adds a dependency ring through k >= 2 chosen nodes, so the plan has a cycle. */
const withRing = (steps: GateStep[]): fc.Arbitrary<GateStep[]> =>
  fc.shuffledSubarray(steps.map((s) => s.step_id), { minLength: 2 }).map((ring) =>
    steps.map((s) => {
      const at = ring.indexOf(s.step_id);
      return at < 0 ? s : { ...s, dependencies: [...(s.dependencies ?? []), ring[(at + 1) % ring.length]!] };
    }),
  );

/** Each arrow of a reported cycle is a real dependency, and the cycle closes. */
function expectRealCycle(message: string, steps: readonly GateStep[]): void {
  const labels = message.replace('Dependency cycle: ', '').split(' -> ');
  const idOf = (label: string): string => steps.find((s) => s.action_type === label)!.step_id;
  expect(labels[0]).toBe(labels[labels.length - 1]);
  expect(new Set(labels).size).toBe(labels.length - 1);
  for (let i = 0; i + 1 < labels.length; i++) {
    const from = steps.find((s) => s.step_id === idOf(labels[i]!))!;
    expect(from.dependencies).toContain(idOf(labels[i + 1]!));
  }
}

describe('Policy Gate properties', () => {
  it('is deterministic and leaves its input unchanged', () => {
    fc.assert(
      fc.property(arbitraryPlan, arbitraryContext, fc.array(fc.constantFrom('plan-1', 'p2', 'p3')), fc.anything(), (plan, context, ids, pre) => {
        const before = structuredClone({ plan, context });
        const activation = { plan, tenant_id: TENANT, account_id: 'account-1', existing_active_plan_ids: ids, preconditions_met: pre };
        expect(validateStructure(plan)).toEqual(validateStructure(structuredClone(plan)));
        expect(validateForApproval(plan, TENANT, context)).toEqual(validateForApproval(plan, TENANT, context));
        expect(evaluateCanActivate(activation)).toEqual(evaluateCanActivate(activation));
        expect({ plan, context }).toEqual(before);
      }),
    );
  });

  it('reports every structural problem and only real ones', () => {
    fc.assert(
      fc.property(arbitraryPlan, (plan) => {
        const reasons = validateStructure(plan);
        const expected = expectedStructure(plan);
        const invalidType = reasons.filter((r) => r.code === 'INVALID_PLAN_TYPE');
        expect(invalidType.length).toBe(expected.invalidType ? 1 : 0);
        expect(messagesLike(reasons, /^Plan has no steps$/).length).toBe(expected.empty ? 1 : 0);
        // Named in step order, so compared as sets here.
        const duplicateIds = messagesLike(reasons, /^Duplicate step_id /).map((m) => /"(.*)"/.exec(m)![1]!);
        expect(duplicateIds.sort()).toEqual(expected.duplicateIds.sort());
        expect(messagesLike(reasons, /^Disallowed step action_type /)).toHaveLength(expected.disallowed);
        const duplicateTypes = messagesLike(reasons, /^Duplicate action_type /).map(
          (m) => JSON.parse(/^Duplicate action_type (".*?") /.exec(m)![1]!) as string,
        );
        expect(duplicateTypes.sort()).toEqual(expected.duplicateTypes.sort());
        expect(messagesLike(reasons, /depends on unknown step_id/)).toHaveLength(expected.dangling);
        expect(messagesLike(reasons, /depends on itself$/)).toHaveLength(expected.selfDependent);
        expect(messagesLike(reasons, /^Dependency cycle: /).length > 0).toBe(expected.cyclic);
        expect(messagesLike(reasons, / must come before step /).length > 0).toBe(expected.outOfOrder);
        // Nothing else: every reason belongs to one of the rules above.
        const accounted = /^(Plan has no steps|Duplicate step_id |Disallowed step action_type |Duplicate action_type |Dependency cycle: )|depends on (unknown step_id|itself)| must come before step /;
        expect(reasons.filter((r) => r.code === 'STEP_ORDER_VIOLATION' && !accounted.test(r.message))).toEqual([]);
        expect(reasons.length).toBe(invalidType.length + reasons.filter((r) => r.code === 'STEP_ORDER_VIOLATION').length);
      }),
    );
  });

  it('puts approval reasons in rule order: plan type, structure, human touch, elevated risk', () => {
    fc.assert(
      fc.property(arbitraryPlan, arbitraryContext, (plan, context) => {
        const { valid, reasons } = validateForApproval(plan, TENANT, context);
        const ranks = reasons.map((r) => REASON_RANK.indexOf(r.code));
        expect(ranks).toEqual([...ranks].sort((x, y) => x - y));
        expect(ranks).not.toContain(-1);
        expect(valid).toBe(reasons.length === 0);
        const structure = validateStructure(plan);
        expect(reasons.slice(0, structure.length)).toEqual(structure);
      }),
    );
  });

  it('asks for a human owner and an elevated approver exactly where the policy says', () => {
    fc.assert(
      fc.property(arbitraryPlan, arbitraryContext, (plan, context) => {
        const { reasons } = validateForApproval(plan, TENANT, context);
        const policy = context.policy ?? {};
        const ownerless = plan.steps.filter(
          (s) =>
            (policy.human_touch_action_types ?? []).includes(s.action_type) &&
            !(typeof s.constraints?.human_touch_owner === 'string' && s.constraints.human_touch_owner.trim() !== ''),
        );
        const role = policy.elevated_approver_role ?? 'plan-approver-elevated';
        const risky = (context.approver_roles ?? []).includes(role)
          ? []
          : plan.steps.filter((s) => (policy.elevated_risk_action_types ?? []).includes(s.action_type));
        expect(reasons.filter((r) => r.code === 'HUMAN_TOUCH_REQUIRED')).toHaveLength(ownerless.length);
        expect(reasons.filter((r) => r.code === 'RISK_ELEVATED')).toHaveLength(risky.length);
      }),
    );
  });

  it('never reports a violation for allowed steps in default order whose dependencies point back', () => {
    fc.assert(
      fc.property(arbitraryDagInDefaultOrder, (steps) => {
        expect(validateStructure(planOf(steps))).toEqual([]);
        expect(validateForApproval(planOf(steps), TENANT).valid).toBe(true);
      }),
    );
  });

  it('finds no cycle in any larger acyclic graph (unknown plan type, so any action types)', () => {
    fc.assert(
      fc.property(arbitraryLargeDag(12), (steps) => {
        expect(validateStructure(planOf(steps, { plan_type: 'CUSTOM' })).map((r) => r.code)).toEqual(['INVALID_PLAN_TYPE']);
      }),
    );
  });

  it('always reports a dependency ring, naming a real cycle', () => {
    fc.assert(
      fc.property(
        arbitraryDagInDefaultOrder.filter((s) => s.length >= 2).chain(withRing),
        (steps) => {
          const reasons = validateStructure(planOf(steps));
          expect(reasons.length).toBeGreaterThan(0);
          for (const r of reasons) {
            expect(r.code).toBe('STEP_ORDER_VIOLATION');
            expect(r.message).toMatch(/^Dependency cycle: /);
            expectRealCycle(r.message, steps);
          }
        },
      ),
    );
    fc.assert(
      fc.property(
        arbitraryLargeDag(12).filter((s) => s.length >= 2).chain(withRing),
        (steps) => {
          const cycles = messagesLike(validateStructure(planOf(steps, { plan_type: 'CUSTOM' })), /^Dependency cycle: /);
          expect(cycles.length).toBeGreaterThan(0);
          for (const message of cycles) expectRealCycle(message, steps);
        },
      ),
    );
  });

  it('flags a permutation of the default order exactly when it breaks the relative order', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray([...DEFAULT_ORDER], { minLength: 1 }), fc.boolean(), (types, shuffleArray) => {
        const steps = types.map((action_type, i) => ({ step_id: `s${i}`, action_type, sequence: i + 1, dependencies: [] }));
        const plan = planOf(shuffleArray ? [...steps].reverse() : steps);
        const ranks = types.map((t) => DEFAULT_ORDER.indexOf(t));
        const respects = ranks.every((r, i) => i === 0 || ranks[i - 1]! < r);
        const reasons = validateStructure(plan);
        expect(reasons.length === 0).toBe(respects);
        for (const r of reasons) expect(r.message).toMatch(/ must come before step /);
      }),
    );
  });

  it('allows activation exactly for a known plan type, no other active plan and preconditions_met === true', () => {
    fc.assert(
      fc.property(
        arbitraryPlan,
        fc.array(fc.constantFrom('plan-1', 'p2', 'p3')),
        fc.oneof(fc.constant(true), fc.anything()),
        (plan, ids, pre) => {
          const decision = evaluateCanActivate({ plan, tenant_id: TENANT, account_id: 'account-1', existing_active_plan_ids: ids, preconditions_met: pre });
          const expected = [
            ...(plan.plan_type === 'RENEWAL_DEFENSE' ? [] : ['INVALID_PLAN_TYPE']),
            ...(ids.some((id) => id !== plan.plan_id) ? ['CONFLICT_ACTIVE_PLAN'] : []),
            ...(pre === true ? [] : ['PRECONDITIONS_UNMET']),
          ];
          expect(decision.reasons.map((r) => r.code)).toEqual(expected);
          expect(decision.can_activate).toBe(expected.length === 0);
        },
      ),
    );
  });

  it('throws for another tenant’s plan, whatever the plan', () => {
    fc.assert(
      fc.property(arbitraryPlan, fc.string(), (plan, tenant) => {
        fc.pre(tenant !== TENANT);
        expect(() => validateForApproval(plan, tenant)).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
      }),
    );
  });
});
