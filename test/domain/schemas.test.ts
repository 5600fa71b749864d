import { describe, expect, it } from '@jest/globals';
import {
  GATE_REASON_CODES,
  LEDGER_EVENT_TYPES,
  PLAN_STATUSES,
  STEP_STATUSES,
  TERMINAL_PLAN_STATUSES,
} from '../../src/domain/enums.js';
import { LedgerEntryRecordSchema } from '../../src/domain/ledger.js';
import { PlanStepV1Schema, RevenuePlanV1Schema } from '../../src/domain/plan.js';

const at = new Date('2026-01-30T10:00:00Z');
const storedPlan = {
  plan_id: '5b1c8f3e-0000-4000-8000-000000000001',
  plan_type: 'RENEWAL_DEFENSE',
  tenant_id: 't1',
  account_id: 'acct-1',
  objective: 'Secure the renewal of account acct-1',
  plan_status: 'DRAFT',
  steps: [
    { step_id: 's1', action_type: 'REQUEST_RENEWAL_MEETING', status: 'PENDING', sequence: 1, dependencies: [] },
    { step_id: 's2', action_type: 'PREP_RENEWAL_BRIEF', status: 'PENDING', sequence: 2, dependencies: ['s1'], constraints: { human_touch_owner: 'alice' } },
  ],
  expires_at: at,
  created_at: at,
  updated_at: at,
};
const entry = {
  entry_id: 'e1',
  plan_id: 'p1',
  tenant_id: 't1',
  account_id: 'acct-1',
  event_type: 'PLAN_CREATED',
  timestamp: at,
  day: '2026-01-30',
  seq: 1,
  actor: 'alice',
  data: { trigger: 'proposal_generated' },
  prev_hash: null,
  hash: 'a'.repeat(64),
};

describe('RevenuePlanV1Schema', () => {
  it('parses a stored plan and strips store-only fields', () => {
    const parsed = RevenuePlanV1Schema.parse({ ...storedPlan, _id: 'mongo-id', version: 3 });
    expect(parsed).toEqual(storedPlan);
    expect(parsed).not.toHaveProperty('_id');
  });

  it('keeps the optional lifecycle fields', () => {
    const approved = { ...storedPlan, plan_status: 'COMPLETED', approved_at: at, approved_by: 'bob', completed_at: at, completion_reason: 'objective_met' };
    expect(RevenuePlanV1Schema.parse(approved)).toEqual(approved);
  });

  it.each([
    ['an unknown plan type', { plan_type: 'renewal_defense' }],
    ['an unknown status', { plan_status: 'RUNNING' }],
    ['a date as a string', { expires_at: '2026-01-30' }],
    ['an unknown completion reason', { completion_reason: 'bored' }],
    ['an empty plan_id', { plan_id: '' }],
  ])('rejects %s', (_label, change) => {
    expect(RevenuePlanV1Schema.safeParse({ ...storedPlan, ...change }).success).toBe(false);
  });
});

describe('PlanStepV1Schema', () => {
  const good = { step_id: 's1', action_type: 'PREP_RENEWAL_BRIEF', status: 'DONE', sequence: 1, dependencies: [] };

  it('parses every step status', () => {
    for (const status of STEP_STATUSES) expect(PlanStepV1Schema.parse({ ...good, status }).status).toBe(status);
  });

  it.each([
    ['a zero sequence', { sequence: 0 }],
    ['a fractional sequence', { sequence: 1.5 }],
    ['an unknown status', { status: 'RUNNING' }],
    ['constraints that are not an object', { constraints: ['x'] }],
  ])('rejects %s', (_label, change) => {
    expect(PlanStepV1Schema.safeParse({ ...good, ...change }).success).toBe(false);
  });
});

describe('LedgerEntryRecordSchema', () => {
  it('parses a stored entry', () => {
    expect(LedgerEntryRecordSchema.parse(entry)).toEqual(entry);
    expect(LedgerEntryRecordSchema.parse({ ...entry, seq: 2, actor: null, prev_hash: 'b'.repeat(64) }).seq).toBe(2);
  });

  it.each([
    ['a hash that is not sha-256 hex', { hash: 'A'.repeat(64) }],
    ['a day that is not YYYY-MM-DD', { day: '30/01/2026' }],
    ['a seq below 1', { seq: 0 }],
    ['an unknown event type', { event_type: 'PLAN_DELETED' }],
  ])('rejects %s', (_label, change) => {
    expect(LedgerEntryRecordSchema.safeParse({ ...entry, ...change }).success).toBe(false);
  });
});

describe('vocabularies', () => {
  it('has the gate\'s reason taxonomy, and nothing more', () => {
    expect([...GATE_REASON_CODES].sort()).toEqual(
      ['CONFLICT_ACTIVE_PLAN', 'PRECONDITIONS_UNMET', 'RISK_ELEVATED', 'INVALID_PLAN_TYPE', 'STEP_ORDER_VIOLATION', 'HUMAN_TOUCH_REQUIRED'].sort(),
    );
  });

  it('has terminal statuses among the plan statuses, and every lifecycle event type', () => {
    for (const s of TERMINAL_PLAN_STATUSES) expect(PLAN_STATUSES).toContain(s);
    // 13 plan and step events, and the playbook's PLAN_TYPE_CONFIG_PUBLISHED and _RETIRED.
    expect(LEDGER_EVENT_TYPES).toHaveLength(15);
  });
});
