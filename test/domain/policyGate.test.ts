import { describe, expect, it } from '@jest/globals';
import { AppError } from '../../src/domain/errors.js';
import type { GateReason } from '../../src/domain/policyGate/gateTypes.js';
import * as gate from '../../src/domain/policyGate/PlanPolicyGate.js';
import {
  describeGateRules,
  evaluateCanActivate,
  GATE_NAMES,
  validateForApproval,
  validateStructure,
} from '../../src/domain/policyGate/PlanPolicyGate.js';
import { DEFAULT_ELEVATED_APPROVER_ROLE } from '../../src/domain/policyGate/tenantPolicyRules.js';
import { BRIEF, deepFreeze, ESCALATE, MEETING, planOf, step, TENANT, validPlan } from './planFixtures.js';

const violation = (message: string): GateReason => ({ code: 'STEP_ORDER_VIOLATION', message });
const codes = (reasons: readonly GateReason[]): string[] => reasons.map((r) => r.code);

describe('validateStructure', () => {
  it('passes a plan with the allowed steps in the default order', () => {
    expect(validateStructure(validPlan())).toEqual([]);
  });

  it('passes when steps are omitted, since the default order is relative only', () => {
    expect(validateStructure(planOf([step('m', MEETING, 1), step('e', ESCALATE, 7)]))).toEqual([]);
    expect(validateStructure(planOf([step('b', BRIEF, 4)]))).toEqual([]);
  });

  it('orders steps by sequence, not by their place in the array', () => {
    const plan = planOf([step('e', ESCALATE, 3), step('b', BRIEF, 2, ['m']), step('m', MEETING, 1)]);
    expect(validateStructure(plan)).toEqual([]);
  });

  describe('plan type', () => {
    it.each(['OTHER', ' RENEWAL_DEFENSE', 'RENEWAL_DEFENSE ', 'renewal_defense', ''])(
      'reports INVALID_PLAN_TYPE for %j (exact, case-sensitive)',
      (planType) => {
        expect(validateStructure({ ...validPlan(), plan_type: planType })).toEqual([
          { code: 'INVALID_PLAN_TYPE', message: `Unknown plan type ${JSON.stringify(planType)}` },
        ]);
      },
    );

    it('still reports the problems that need no config, but not the ones that do', () => {
      const plan = planOf(
        [
          step('x', 'ANYTHING', 2, ['y']),
          step('y', 'ANYTHING', 1, ['x', 'ghost']),
          step('x', 'OTHER_THING', 3),
          step('z', ESCALATE, 0),
        ],
        { plan_type: 'renewal_defense' },
      );
      expect(validateStructure(plan)).toEqual([
        { code: 'INVALID_PLAN_TYPE', message: 'Unknown plan type "renewal_defense"' },
        violation('Duplicate step_id "x" (used by 2 steps)'),
        violation('Duplicate action_type "ANYTHING" (used by 2 steps); each may appear once per plan'),
        violation('Step ANYTHING (step y) depends on unknown step_id "ghost"'),
        violation('Dependency cycle: ANYTHING (step y) -> ANYTHING (step x) -> ANYTHING (step y)'),
      ]);
    });
  });

  it('reports an empty step list', () => {
    expect(validateStructure(planOf([]))).toEqual([violation('Plan has no steps')]);
  });

  it('reports each duplicated step_id once', () => {
    const plan = planOf([step('a', MEETING, 1), step('a', BRIEF, 2), step('a', ESCALATE, 3)]);
    expect(validateStructure(plan)).toEqual([violation('Duplicate step_id "a" (used by 3 steps)')]);
  });

  it('names each disallowed action type, in step order', () => {
    const plan = planOf([step('m', MEETING, 1), step('y', 'SEND_GIFT', 3), step('x', 'DISCOUNT_50', 2)]);
    expect(validateStructure(plan)).toEqual([
      violation('Disallowed step action_type "DISCOUNT_50" for plan type RENEWAL_DEFENSE (DISCOUNT_50)'),
      violation('Disallowed step action_type "SEND_GIFT" for plan type RENEWAL_DEFENSE (SEND_GIFT)'),
    ]);
  });

  it('treats action types as exact strings', () => {
    const reasons = validateStructure(planOf([step('m', 'request_renewal_meeting', 1)]));
    expect(reasons).toEqual([
      violation(
        'Disallowed step action_type "request_renewal_meeting" for plan type RENEWAL_DEFENSE (request_renewal_meeting)',
      ),
    ]);
  });

  it('reports a repeated action type once and names the steps by id', () => {
    const plan = planOf([step('b1', BRIEF, 1), step('b2', BRIEF, 2, ['b1'])]);
    expect(validateStructure(plan)).toEqual([
      violation('Duplicate action_type "PREP_RENEWAL_BRIEF" (used by 2 steps); each may appear once per plan'),
    ]);
  });

  it('reports each dependency on a missing step_id', () => {
    const plan = planOf([step('m', MEETING, 1, ['nope']), step('b', BRIEF, 2, ['m', 'gone', 'gone'])]);
    expect(validateStructure(plan)).toEqual([
      violation('Step REQUEST_RENEWAL_MEETING depends on unknown step_id "nope"'),
      violation('Step PREP_RENEWAL_BRIEF depends on unknown step_id "gone"'),
    ]);
  });

  it('reports a step that depends on itself once, and not as a cycle', () => {
    const plan = planOf([step('m', MEETING, 1, ['m', 'm']), step('b', BRIEF, 2, ['m'])]);
    expect(validateStructure(plan)).toEqual([violation('Step REQUEST_RENEWAL_MEETING depends on itself')]);
  });

  it('names a two-step cycle with action types', () => {
    const plan = planOf([step('m', MEETING, 1, ['b']), step('b', BRIEF, 2, ['m'])]);
    expect(validateStructure(plan)).toEqual([
      violation('Dependency cycle: REQUEST_RENEWAL_MEETING -> PREP_RENEWAL_BRIEF -> REQUEST_RENEWAL_MEETING'),
    ]);
  });

  it('names a three-step cycle starting from the earliest step', () => {
    const plan = planOf([step('e', ESCALATE, 3, ['m']), step('m', MEETING, 1, ['b']), step('b', BRIEF, 2, ['e'])]);
    expect(validateStructure(plan)).toEqual([
      violation(
        'Dependency cycle: REQUEST_RENEWAL_MEETING -> PREP_RENEWAL_BRIEF -> ESCALATE_SUPPORT_RISK -> REQUEST_RENEWAL_MEETING',
      ),
    ]);
  });

  it('reports every independent cycle', () => {
    const plan = planOf(
      [step('a', 'A', 1, ['b']), step('b', 'B', 2, ['a']), step('c', 'C', 3, ['d', 'a']), step('d', 'D', 4, ['c'])],
      { plan_type: 'X' },
    );
    expect(validateStructure(plan).slice(1)).toEqual([
      violation('Dependency cycle: A -> B -> A'),
      violation('Dependency cycle: C -> D -> C'),
    ]);
  });

  it('reports each step that comes before a step the default order puts first', () => {
    const plan = planOf([step('e', ESCALATE, 1), step('m', MEETING, 2), step('b', BRIEF, 3)]);
    const order = 'RENEWAL_DEFENSE order is REQUEST_RENEWAL_MEETING -> PREP_RENEWAL_BRIEF -> ESCALATE_SUPPORT_RISK';
    expect(validateStructure(plan)).toEqual([
      violation(`Step REQUEST_RENEWAL_MEETING (sequence 2) must come before step ESCALATE_SUPPORT_RISK (sequence 1); ${order}`),
      violation(`Step PREP_RENEWAL_BRIEF (sequence 3) must come before step ESCALATE_SUPPORT_RISK (sequence 1); ${order}`),
    ]);
  });

  it('breaks sequence ties by position in the array', () => {
    expect(validateStructure(planOf([step('m', MEETING, 1), step('b', BRIEF, 1)]))).toEqual([]);
    expect(codes(validateStructure(planOf([step('b', BRIEF, 1), step('m', MEETING, 1)])))).toEqual([
      'STEP_ORDER_VIOLATION',
    ]);
  });

  it('puts steps without a usable sequence last, in array order', () => {
    expect(validateStructure(planOf([step('e', ESCALATE), step('m', MEETING, 5), step('b', BRIEF, NaN)]))).toEqual([
      violation(
        'Step PREP_RENEWAL_BRIEF (sequence NaN) must come before step ESCALATE_SUPPORT_RISK (no sequence); ' +
          'RENEWAL_DEFENSE order is REQUEST_RENEWAL_MEETING -> PREP_RENEWAL_BRIEF -> ESCALATE_SUPPORT_RISK',
      ),
    ]);
  });

  it('does not order action types outside the default sequence', () => {
    const reasons = validateStructure(planOf([step('b', BRIEF, 1), step('x', 'NOT_ALLOWED', 2), step('e', ESCALATE, 3)]));
    expect(codes(reasons)).toEqual(['STEP_ORDER_VIOLATION']);
    expect(reasons[0]!.message).toMatch(/^Disallowed step action_type "NOT_ALLOWED"/);
  });

  it('reports a step due before a step that comes earlier; undated or unreadable dates are not ordered', () => {
    const due = (iso: string) => new Date(iso);
    const plan = planOf([
      { ...step('m', MEETING, 1), due_at: due('2026-12-10T00:00:00Z') },
      { ...step('b', BRIEF, 2), due_at: due('2026-12-01T00:00:00Z') },
      { ...step('e', ESCALATE, 3), due_at: new Date(NaN) },
    ]);
    expect(validateStructure(plan)).toEqual([
      violation(
        'Step PREP_RENEWAL_BRIEF (sequence 2, due 2026-12-01T00:00:00.000Z) is due before step REQUEST_RENEWAL_MEETING ' +
          '(sequence 1, due 2026-12-10T00:00:00.000Z), which comes earlier',
      ),
    ]);
    const ordered = planOf([{ ...step('m', MEETING, 1), due_at: due('2026-12-01T00:00:00Z') }, step('b', BRIEF, 2), { ...step('e', ESCALATE, 3), due_at: due('2026-12-01T00:00:00Z') }]);
    expect(validateStructure(ordered)).toEqual([]);
  });

  it('treats missing dependencies as none', () => {
    expect(validateStructure(planOf([{ step_id: 'm', action_type: MEETING }]))).toEqual([]);
  });

  it('reports every problem, in rule order then step order', () => {
    const plan = planOf([
      step('b', BRIEF, 1, ['e']),
      step('m', MEETING, 2, ['m', 'missing']),
      step('e', ESCALATE, 3, ['b']),
      step('e', 'FREE_MONEY', 4),
    ]);
    expect(validateStructure(plan).map((r) => r.message)).toEqual([
      'Duplicate step_id "e" (used by 2 steps)',
      'Disallowed step action_type "FREE_MONEY" for plan type RENEWAL_DEFENSE (FREE_MONEY)',
      'Step REQUEST_RENEWAL_MEETING depends on unknown step_id "missing"',
      'Step REQUEST_RENEWAL_MEETING depends on itself',
      'Dependency cycle: PREP_RENEWAL_BRIEF -> ESCALATE_SUPPORT_RISK -> PREP_RENEWAL_BRIEF',
      'Step REQUEST_RENEWAL_MEETING (sequence 2) must come before step PREP_RENEWAL_BRIEF (sequence 1); ' +
        'RENEWAL_DEFENSE order is REQUEST_RENEWAL_MEETING -> PREP_RENEWAL_BRIEF -> ESCALATE_SUPPORT_RISK',
    ]);
  });

  it('never changes its input', () => {
    const plan = deepFreeze(planOf([step('b', BRIEF, 2, ['m']), step('m', MEETING, 1)]));
    expect(() => validateStructure(plan)).not.toThrow();
  });
});

describe('validateForApproval', () => {
  const touchPolicy = { policy: { human_touch_action_types: [MEETING, ESCALATE] } };
  const riskPolicy = { policy: { elevated_risk_action_types: [ESCALATE, BRIEF] } };

  it('throws FORBIDDEN for another tenant’s plan: callers only pass their own', () => {
    const call = (): unknown => validateForApproval(validPlan(), 'tenant-2');
    expect(call).toThrow(AppError);
    expect(call).toThrow(expect.objectContaining({ code: 'FORBIDDEN', details: { plan_id: 'plan-1' } }));
  });

  it('passes a valid plan when no tenant policy is set', () => {
    expect(validateForApproval(validPlan(), TENANT)).toEqual({ valid: true, reasons: [] });
    expect(validateForApproval(validPlan(), TENANT, { policy: {} })).toEqual({ valid: true, reasons: [] });
    expect(
      validateForApproval(validPlan(), TENANT, {
        policy: { human_touch_action_types: [], elevated_risk_action_types: [] },
        approver_roles: [],
      }),
    ).toEqual({ valid: true, reasons: [] });
  });

  it('includes the structural reasons', () => {
    expect(validateForApproval(planOf([]), TENANT)).toEqual({ valid: false, reasons: [violation('Plan has no steps')] });
  });

  it('requires a non-blank human_touch_owner on human-touch steps', () => {
    const plan = planOf([
      step('m', MEETING, 1, [], { human_touch_owner: '   ' }),
      step('b', BRIEF, 2),
      step('e', ESCALATE, 3, [], { human_touch_owner: 42 }),
    ]);
    expect(validateForApproval(plan, TENANT, touchPolicy)).toEqual({
      valid: false,
      reasons: [
        {
          code: 'HUMAN_TOUCH_REQUIRED',
          message:
            'Step REQUEST_RENEWAL_MEETING needs a human owner: set constraints.human_touch_owner to the person who makes the contact',
        },
        {
          code: 'HUMAN_TOUCH_REQUIRED',
          message:
            'Step ESCALATE_SUPPORT_RISK needs a human owner: set constraints.human_touch_owner to the person who makes the contact',
        },
      ],
    });
  });

  it('accepts human-touch steps that name an owner, and steps without constraints when the rule is off', () => {
    const plan = planOf([step('m', MEETING, 1, [], { human_touch_owner: 'alice' }), step('e', ESCALATE, 2, [], { human_touch_owner: 'bob' })]);
    expect(validateForApproval(plan, TENANT, touchPolicy).valid).toBe(true);
    expect(validateForApproval(planOf([step('m', MEETING, 1)]), TENANT, riskPolicy).valid).toBe(true);
  });

  it('reports each elevated-risk step when the approver lacks the elevated role', () => {
    for (const approver_roles of [undefined, [], ['plan-approver']]) {
      const result = validateForApproval(validPlan(), TENANT, { ...riskPolicy, approver_roles });
      expect(result).toEqual({
        valid: false,
        reasons: [
          {
            code: 'RISK_ELEVATED',
            message: `Step PREP_RENEWAL_BRIEF is elevated risk: the approver needs the role ${DEFAULT_ELEVATED_APPROVER_ROLE}`,
          },
          {
            code: 'RISK_ELEVATED',
            message: `Step ESCALATE_SUPPORT_RISK is elevated risk: the approver needs the role ${DEFAULT_ELEVATED_APPROVER_ROLE}`,
          },
        ],
      });
    }
  });

  it('accepts elevated-risk steps from an approver holding the (default or configured) elevated role', () => {
    expect(DEFAULT_ELEVATED_APPROVER_ROLE).toBe('plan-approver-elevated');
    expect(
      validateForApproval(validPlan(), TENANT, { ...riskPolicy, approver_roles: ['plan-approver', 'plan-approver-elevated'] })
        .valid,
    ).toBe(true);
    const custom = { policy: { elevated_risk_action_types: [ESCALATE], elevated_approver_role: 'cro' } };
    expect(validateForApproval(validPlan(), TENANT, { ...custom, approver_roles: ['cro'] }).valid).toBe(true);
    expect(validateForApproval(validPlan(), TENANT, { ...custom, approver_roles: ['plan-approver-elevated'] }).reasons).toEqual([
      { code: 'RISK_ELEVATED', message: 'Step ESCALATE_SUPPORT_RISK is elevated risk: the approver needs the role cro' },
    ]);
  });

  it('orders reasons: plan type, structure, human touch, elevated risk', () => {
    const plan = planOf([step('e', ESCALATE, 1), step('m', MEETING, 2)], { plan_type: 'OTHER' });
    const context = {
      policy: { human_touch_action_types: [ESCALATE], elevated_risk_action_types: [MEETING] },
      approver_roles: ['plan-approver'],
    };
    const result = validateForApproval(plan, TENANT, context);
    expect(codes(result.reasons)).toEqual(['INVALID_PLAN_TYPE', 'HUMAN_TOUCH_REQUIRED', 'RISK_ELEVATED']);
    expect(result.valid).toBe(false);
  });
});

describe('evaluateCanActivate', () => {
  const input = (overrides: Partial<Parameters<typeof evaluateCanActivate>[0]> = {}) => ({
    plan: validPlan(),
    tenant_id: TENANT,
    account_id: 'account-1',
    existing_active_plan_ids: [],
    preconditions_met: true,
    ...overrides,
  });

  it('allows activation with no conflicting plan and preconditions met', () => {
    expect(evaluateCanActivate(input())).toEqual({ can_activate: true, reasons: [] });
  });

  it('ignores the plan itself among the active plans (e.g. a retried activation)', () => {
    expect(evaluateCanActivate(input({ existing_active_plan_ids: ['plan-1'] })).can_activate).toBe(true);
  });

  it('names the other active plans, sorted and once each', () => {
    expect(evaluateCanActivate(input({ existing_active_plan_ids: ['p-9', 'plan-1', 'p-2', 'p-9'] }))).toEqual({
      can_activate: false,
      reasons: [
        { code: 'CONFLICT_ACTIVE_PLAN', message: 'Another plan is already ACTIVE for this account and plan type: p-2, p-9' },
      ],
    });
  });

  it.each([
    [false, 'false'],
    [undefined, 'a undefined'],
    [null, 'null'],
    ['true', 'a string'],
    [1, 'a number'],
    [{}, 'a object'],
  ])('requires preconditions_met to be exactly true (%j)', (value, described) => {
    expect(evaluateCanActivate(input({ preconditions_met: value }))).toEqual({
      can_activate: false,
      reasons: [
        {
          code: 'PRECONDITIONS_UNMET',
          message: `Activation preconditions are not met (preconditions_met is ${described}, not true)`,
        },
      ],
    });
  });

  it('reports an unknown plan type, then conflicts, then preconditions', () => {
    const decision = evaluateCanActivate(
      input({ plan: { ...validPlan(), plan_type: 'Renewal_Defense' }, existing_active_plan_ids: ['p-0'], preconditions_met: false }),
    );
    expect(codes(decision.reasons)).toEqual(['INVALID_PLAN_TYPE', 'CONFLICT_ACTIVE_PLAN', 'PRECONDITIONS_UNMET']);
    expect(decision.can_activate).toBe(false);
  });

  it('does not judge structure again (approval did)', () => {
    expect(evaluateCanActivate(input({ plan: planOf([]) })).can_activate).toBe(true);
  });

  it('throws FORBIDDEN when the plan belongs to another tenant', () => {
    expect(() => evaluateCanActivate(input({ tenant_id: 'tenant-2' }))).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN' }),
    );
  });
});

describe('describeGateRules', () => {
  it('lists each gate’s rules in the order reasons are reported', () => {
    const rows = describeGateRules();
    expect(rows.filter((r) => r.gate === 'validateForApproval').map((r) => r.code)).toEqual([
      'INVALID_PLAN_TYPE',
      ...Array(9).fill('STEP_ORDER_VIOLATION'),
      'HUMAN_TOUCH_REQUIRED',
      'RISK_ELEVATED',
    ]);
    expect(rows.filter((r) => r.gate === 'evaluateCanActivate').map((r) => r.code)).toEqual([
      'INVALID_PLAN_TYPE',
      'CONFLICT_ACTIVE_PLAN',
      'PRECONDITIONS_UNMET',
    ]);
    for (const row of rows) expect(row.rule.length).toBeGreaterThan(10);
  });

  it('names gates that are exported functions', () => {
    for (const name of GATE_NAMES) expect(typeof gate[name]).toBe('function');
  });
});
