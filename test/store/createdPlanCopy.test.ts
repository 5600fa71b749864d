import { describe, expect, it } from '@jest/globals';
import { BSON } from 'mongodb';
import { RevenuePlanV1Schema, type RevenuePlanV1 } from '../../src/domain/plan.js';
import { toStorableJson } from '../../src/domain/storableJson.js';
import { CreatedPlanCopySchema, compactCreatedPlan, expandCreatedPlan, readCreatedPlan, sameStorable, storedCreatedPlan } from '../../src/store/createdPlanCopy.js';
import { draftPlan } from './storeFixtures.js';

// The copy of a created plan its PLAN_CREATED entry keeps leaves out what the entry's data holds
// identically; plan = expand(compact(plan, data), data) for every plan and data.

const explained = (): RevenuePlanV1 => {
  const plan = draftPlan({ renewal_date: '2027-01-07' });
  plan.steps = plan.steps.map((s, i) => ({
    ...s,
    rationale: `reason ${i}`,
    evidence: [{ source: 'SIGNAL', index: i, field: null }],
    due_at: new Date(Date.UTC(2026, 11, 20 + i)),
    owner_role: 'CSM',
  }));
  return plan;
};

/** A data payload as the proposal audit writes it: the plan's explanation per step, absent parts null. */
const auditOf = (plan: RevenuePlanV1): Record<string, unknown> =>
  toStorableJson({
    proposal_id: 'p1',
    plan_id: plan.plan_id,
    plan_type: plan.plan_type,
    account_id: plan.account_id,
    objective: plan.objective,
    steps: plan.steps.map((s) => ({
      step_id: s.step_id,
      action_type: s.action_type,
      sequence: s.sequence,
      rationale: s.rationale ?? null,
      evidence: s.evidence ?? [],
      due_at: s.due_at?.toISOString() ?? null,
      owner_role: s.owner_role ?? null,
    })),
    renewal_date: plan.renewal_date ?? null,
    created_by: plan.created_by ?? null,
  }) as Record<string, unknown>;

/** compact, the stored form, a store round trip (BSON), read, expand, parse: what a restore gets back. */
function roundTrip(plan: RevenuePlanV1, data: Record<string, unknown>) {
  const copy = storedCreatedPlan(compactCreatedPlan(plan as never, { proposal_id: 'p1' }, data));
  expect(Object.keys(copy)).toEqual(['ejson']);
  const stored = BSON.deserialize(BSON.serialize({ copy, data }));
  const parsed = CreatedPlanCopySchema.parse(readCreatedPlan(stored.copy));
  return { copy: parsed, plan: RevenuePlanV1Schema.parse(expandCreatedPlan(parsed, stored.data as Record<string, unknown>)) };
}

describe('created plan copy', () => {
  it('leaves out what the audit holds, and restores the plan exactly', () => {
    const plan = explained();
    const { copy, plan: restored } = roundTrip(plan, auditOf(plan));
    expect(copy.from_data).toEqual({
      plan: ['plan_type', 'account_id', 'objective', 'created_by', 'renewal_date'],
      steps: ['action_type', 'sequence', 'rationale', 'evidence', 'owner_role'],
    });
    // The identity stays; what differs in form (a Date against its ISO text) or is not in the data stays too.
    expect(Object.keys(copy.plan)).toEqual(['plan_id', 'tenant_id', 'plan_status', 'steps', 'constraints', 'expires_at', 'created_at', 'updated_at']);
    expect(Object.keys((copy.plan.steps as object[])[1]!)).toEqual(['step_id', 'status', 'dependencies', 'constraints', 'due_at']);
    expect(restored).toEqual(plan);
  });

  it('keeps a step field that one step lacks while the data has it, or that differs', () => {
    const plan = explained();
    const data = auditOf(plan);
    delete plan.steps[0]!.evidence; // the audit says [] for it: not the same as absent
    (data.steps as Record<string, unknown>[])[1]!.owner_role = 'AE';
    const { copy, plan: restored } = roundTrip(plan, data);
    expect(copy.from_data?.steps).toEqual(['action_type', 'sequence', 'rationale']);
    expect(restored).toEqual(plan);
  });

  it('a plan without a rationale restores without one (the data says null)', () => {
    const plan = explained();
    delete plan.steps[1]!.rationale;
    const { copy, plan: restored } = roundTrip(plan, auditOf(plan));
    expect(copy.from_data?.steps).toContain('rationale');
    expect(restored).toEqual(plan);
    expect(restored.steps[1]).not.toHaveProperty('rationale');
  });

  it('is the whole plan when the data holds nothing of it, and keeps all steps when one is missing from the data', () => {
    const plan = explained();
    expect(compactCreatedPlan(plan as never, null, { trigger: 'x' })).toEqual({ plan, proposal: null });
    const data = auditOf(plan);
    data.steps = (data.steps as unknown[]).slice(1);
    const { copy, plan: restored } = roundTrip(plan, data);
    expect(copy.from_data?.steps).toEqual([]);
    expect(copy.plan.steps).toEqual(toStorableJson(plan.steps));
    expect(restored).toEqual(plan);
    // The data's first step of an id is the one used; duplicates and non-objects are ignored.
    data.steps = [...(auditOf(plan).steps as unknown[]), 'junk', { step_id: plan.steps[0]!.step_id, action_type: 'OTHER' }];
    expect(roundTrip(plan, data).plan).toEqual(plan);
    expect(compactCreatedPlan({ ...plan, steps: 'none' } as never, null, data).plan.steps).toBe('none');
  });

  it('a copy written before (a document, no from_data) is the plan itself; an unreadable text is nothing', () => {
    const plan = toStorableJson(explained()) as Record<string, unknown>;
    const stored = { plan, proposal: null };
    expect(readCreatedPlan(stored)).toBe(stored);
    const copy = CreatedPlanCopySchema.parse(readCreatedPlan(stored));
    expect(expandCreatedPlan(copy, auditOf(explained()))).toEqual(plan);
    expect(readCreatedPlan({ ejson: '{not json' })).toBeNull();
    expect(readCreatedPlan(null)).toBeNull();
  });

  it('restores nothing the data lacks, and leaves odd steps of a copy as they are', () => {
    const copy = CreatedPlanCopySchema.parse({
      plan: { plan_id: 'p', steps: [{ step_id: 's1' }, { step_id: 7 }, 'x'] },
      proposal: null,
      from_data: { plan: ['objective', 'account_id'], steps: ['action_type', 'rationale'] },
    });
    const data = { objective: 'o', account_id: null, steps: [{ step_id: 's1', action_type: 'A', rationale: null }] };
    expect(expandCreatedPlan(copy, data)).toEqual({ plan_id: 'p', objective: 'o', steps: [{ step_id: 's1', action_type: 'A' }, { step_id: 7 }, 'x'] });
    expect(expandCreatedPlan(copy, {})).toEqual({ plan_id: 'p', steps: [{ step_id: 's1' }, { step_id: 7 }, 'x'] });
  });

  it('sameStorable: deep equality of JSON and Dates, a Date never its ISO text', () => {
    const d = new Date(0);
    expect(sameStorable({ a: [1, { b: d }], u: undefined }, { a: [1, { b: new Date(0) }] })).toBe(true);
    expect(sameStorable(d, d.toISOString())).toBe(false);
    expect(sameStorable([1], [1, 2])).toBe(false);
    expect(sameStorable([1], { 0: 1 })).toBe(false);
    expect(sameStorable({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameStorable({ a: 1 }, { a: 2 })).toBe(false);
    expect(sameStorable('a', 'b')).toBe(false);
    expect(sameStorable(null, {})).toBe(false);
  });
});
