import { describe, expect, it } from '@jest/globals';
import { getPlanTypeConfig, listPlanTypeConfigs, RENEWAL_DEFENSE_CONFIG } from '../../src/domain/planTypeConfig.js';
import { PLAN_TYPES, RENEWAL_DEFENSE_STEP_ACTION_TYPES } from '../../src/domain/enums.js';

describe('plan-type config', () => {
  it('returns the RENEWAL_DEFENSE config for RENEWAL_DEFENSE', () => {
    expect(getPlanTypeConfig('RENEWAL_DEFENSE')).toBe(RENEWAL_DEFENSE_CONFIG);
  });

  it.each(['OTHER', ' RENEWAL_DEFENSE', 'RENEWAL_DEFENSE ', 'renewal_defense', 'Renewal_Defense', '', 'constructor', '__proto__'])(
    'returns null for %j (exact, case-sensitive match)',
    (planType) => {
      expect(getPlanTypeConfig(planType)).toBeNull();
    },
  );

  it('allows exactly the RENEWAL_DEFENSE step action types', () => {
    expect(RENEWAL_DEFENSE_CONFIG.allowed_step_action_types).toEqual([...RENEWAL_DEFENSE_STEP_ACTION_TYPES]);
  });

  it('has a default sequence of distinct allowed action types, meeting before brief before escalation', () => {
    const { default_sequence, allowed_step_action_types } = RENEWAL_DEFENSE_CONFIG;
    expect(default_sequence).toEqual(['REQUEST_RENEWAL_MEETING', 'PREP_RENEWAL_BRIEF', 'ESCALATE_SUPPORT_RISK']);
    expect(new Set(default_sequence).size).toBe(default_sequence.length);
    for (const type of default_sequence) expect(allowed_step_action_types).toContain(type);
  });

  it('describes every allowed step and nothing else', () => {
    const { step_descriptions, allowed_step_action_types } = RENEWAL_DEFENSE_CONFIG;
    expect(Object.keys(step_descriptions).sort()).toEqual([...allowed_step_action_types].sort());
    for (const text of Object.values(step_descriptions)) expect(text.trim().length).toBeGreaterThan(0);
  });

  it('has an objective template with its placeholders and a positive expiry', () => {
    expect(RENEWAL_DEFENSE_CONFIG.objective_template).toContain('{account_id}');
    expect(RENEWAL_DEFENSE_CONFIG.objective_template).toContain('{renewal_date}');
    expect(RENEWAL_DEFENSE_CONFIG.expires_at_days_from_creation).toBe(30);
  });

  it('lists one config per plan type, in a stable order', () => {
    expect(listPlanTypeConfigs()).toEqual([RENEWAL_DEFENSE_CONFIG]);
    expect(listPlanTypeConfigs().map((c) => c.plan_type)).toEqual([...PLAN_TYPES]);
    for (const type of PLAN_TYPES) expect(getPlanTypeConfig(type)?.plan_type).toBe(type);
  });

  it('is frozen, so no caller can widen what the gate allows', () => {
    expect(Object.isFrozen(RENEWAL_DEFENSE_CONFIG)).toBe(true);
    expect(() => (RENEWAL_DEFENSE_CONFIG.allowed_step_action_types as string[]).push('DISCOUNT')).toThrow(TypeError);
    expect(() => (RENEWAL_DEFENSE_CONFIG.default_sequence as string[]).reverse()).toThrow(TypeError);
    const list = listPlanTypeConfigs();
    list.pop();
    expect(listPlanTypeConfigs()).toHaveLength(1);
  });
});
