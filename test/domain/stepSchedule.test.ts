import { describe, expect, it } from '@jest/globals';
import { RENEWAL_DEFENSE_CONFIG } from '../../src/domain/planTypeConfig.js';
import { clampDue, DEFAULT_STEP_SCHEDULE, renewalInstant, scheduleSteps, scheduleViolations } from '../../src/domain/stepSchedule.js';

const NOW = new Date('2026-11-23T12:00:00Z');
const DAY = 86_400_000;
const M = 'REQUEST_RENEWAL_MEETING';
const B = 'PREP_RENEWAL_BRIEF';
const E = 'ESCALATE_SUPPORT_RISK';
const at = (iso: string) => new Date(iso);

describe('scheduleSteps', () => {
  it('anchors on a known renewal date: each step its offset before it', () => {
    const out = scheduleSteps(RENEWAL_DEFENSE_CONFIG, [M, B, E], { created_at: NOW, renewal_date: '2027-03-23' });
    expect(out).toEqual([
      { due_at: at('2027-01-22T00:00:00Z'), owner_role: 'ACCOUNT_EXECUTIVE' },
      { due_at: at('2027-02-06T00:00:00Z'), owner_role: 'CSM' },
      { due_at: at('2027-02-21T00:00:00Z'), owner_role: 'SUPPORT_MANAGER' },
    ]);
  });

  it('clamps to the creation when the renewal is too near for an offset', () => {
    const out = scheduleSteps(RENEWAL_DEFENSE_CONFIG, [M, B, E], { created_at: NOW, renewal_date: '2027-01-07' });
    expect(out.map((s) => s.due_at)).toEqual([NOW, NOW, at('2026-12-08T00:00:00Z')]);
  });

  it('anchors on the creation without a renewal date, or when the renewal is not later than the creation', () => {
    for (const renewal_date of [null, '2026-11-01', '2026-11-23', 'not-a-date']) {
      const out = scheduleSteps(RENEWAL_DEFENSE_CONFIG, [M, B, E], { created_at: NOW, renewal_date });
      expect(out.map((s) => (s.due_at.getTime() - NOW.getTime()) / DAY)).toEqual([7, 10, 14]);
    }
  });

  it('never lets a date decrease along the list, and schedules an unknown step with the default', () => {
    const out = scheduleSteps(RENEWAL_DEFENSE_CONFIG, [E, M, 'EXTRA'], { created_at: NOW, renewal_date: null });
    expect(out.map((s) => (s.due_at.getTime() - NOW.getTime()) / DAY)).toEqual([14, 14, 14]);
    expect(out[2]!.owner_role).toBe(DEFAULT_STEP_SCHEDULE.owner_role);
  });

  it('clamps into [created, renewal]', () => {
    expect(clampDue(5, 10, null)).toBe(10);
    expect(clampDue(50, 10, 20)).toBe(20);
    expect(clampDue(15, 10, 20)).toBe(15);
    expect(renewalInstant(null)).toBeNull();
  });
});

describe('scheduleViolations', () => {
  const step = (action_type: string, sequence: number, due?: string, owner_role: string | undefined = 'CSM') => ({
    action_type,
    sequence,
    ...(due ? { due_at: at(due) } : {}),
    ...(owner_role ? { owner_role } : {}),
  });

  it('is empty for a plan that keeps the invariants', () => {
    expect(scheduleViolations({ created_at: NOW, renewal_date: '2027-01-07', steps: [step(M, 1, '2026-12-01'), step(B, 2, '2027-01-07')] })).toEqual([]);
  });

  it('names every broken invariant', () => {
    expect(
      scheduleViolations({
        created_at: NOW,
        renewal_date: '2027-01-07',
        steps: [step(E, 4, '2026-12-01'), step(M, 1, '2026-11-01'), step(B, 2, '2027-02-01', ''), step('X', 3)],
      }),
    ).toEqual([
      'REQUEST_RENEWAL_MEETING is due before the plan was created',
      'PREP_RENEWAL_BRIEF has no owner role',
      'PREP_RENEWAL_BRIEF is due after the renewal date',
      'X has no due date',
      'ESCALATE_SUPPORT_RISK is due before PREP_RENEWAL_BRIEF, which comes earlier',
    ]);
  });

  it('has no upper bound without a renewal date', () => {
    expect(scheduleViolations({ created_at: NOW, steps: [step(M, 1, '2030-01-01')] })).toEqual([]);
  });
});
