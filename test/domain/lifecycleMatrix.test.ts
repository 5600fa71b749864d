import { describe, expect, it } from '@jest/globals';
import { PLAN_STATUSES, TERMINAL_PLAN_STATUSES, type PlanStatus } from '../../src/domain/enums.js';
import {
  allowedTransitionsFrom,
  canTransition,
  isTerminal,
  LIFECYCLE_TRANSITIONS,
  transitionFor,
} from '../../src/domain/lifecycleMatrix.js';

// The lifecycle table (docs/lifecycle.md; APPROVED -> EXPIRED comes from the expiry rule), written out
// independently of the module so a change to either shows up here.
const SPEC_TABLE: [PlanStatus, PlanStatus, string][] = [
  ['DRAFT', 'APPROVED', 'PLAN_APPROVED'],
  ['APPROVED', 'ACTIVE', 'PLAN_ACTIVATED'],
  ['APPROVED', 'ABORTED', 'PLAN_ABORTED'],
  ['APPROVED', 'EXPIRED', 'PLAN_EXPIRED'],
  ['ACTIVE', 'PAUSED', 'PLAN_PAUSED'],
  ['ACTIVE', 'COMPLETED', 'PLAN_COMPLETED'],
  ['ACTIVE', 'ABORTED', 'PLAN_ABORTED'],
  ['ACTIVE', 'EXPIRED', 'PLAN_EXPIRED'],
  ['PAUSED', 'ACTIVE', 'PLAN_RESUMED'],
  ['PAUSED', 'ABORTED', 'PLAN_ABORTED'],
];
const allowed = (from: PlanStatus, to: PlanStatus): boolean => SPEC_TABLE.some(([f, t]) => f === from && t === to);

describe('lifecycle matrix', () => {
  it('is exactly the lifecycle table', () => {
    expect(LIFECYCLE_TRANSITIONS.map((t) => [t.from, t.to, t.event_type])).toEqual(SPEC_TABLE);
  });

  it('allows exactly the table’s transitions among all status pairs', () => {
    for (const from of PLAN_STATUSES) {
      for (const to of PLAN_STATUSES) {
        expect([from, to, canTransition(from, to)]).toEqual([from, to, allowed(from, to)]);
        expect(transitionFor(from, to) !== null).toBe(allowed(from, to));
      }
    }
  });

  it('rejects same-status moves and every move out of a terminal status', () => {
    for (const status of PLAN_STATUSES) expect(canTransition(status, status)).toBe(false);
    for (const terminal of TERMINAL_PLAN_STATUSES) {
      expect(allowedTransitionsFrom(terminal)).toEqual([]);
      for (const to of PLAN_STATUSES) expect(transitionFor(terminal, to)).toBeNull();
    }
  });

  it('says which timestamps each transition stamps and which gate runs first', () => {
    expect(transitionFor('DRAFT', 'APPROVED')).toEqual({
      event_type: 'PLAN_APPROVED',
      sets: ['approved_at'],
      gate: 'validateForApproval',
    });
    expect(transitionFor('APPROVED', 'ACTIVE')).toEqual({ event_type: 'PLAN_ACTIVATED', sets: [], gate: 'evaluateCanActivate' });
    expect(transitionFor('PAUSED', 'ACTIVE')).toEqual({ event_type: 'PLAN_RESUMED', sets: [], gate: 'evaluateCanActivate' });
    expect(transitionFor('ACTIVE', 'PAUSED')).toEqual({ event_type: 'PLAN_PAUSED', sets: [], gate: null });
    expect(transitionFor('ACTIVE', 'COMPLETED')).toEqual({ event_type: 'PLAN_COMPLETED', sets: ['completed_at'], gate: null });
    expect(transitionFor('ACTIVE', 'EXPIRED')).toEqual({ event_type: 'PLAN_EXPIRED', sets: ['expired_at'], gate: null });
    expect(transitionFor('APPROVED', 'EXPIRED')).toEqual({ event_type: 'PLAN_EXPIRED', sets: ['expired_at'], gate: null });
    for (const from of ['APPROVED', 'ACTIVE', 'PAUSED'] as const) {
      expect(transitionFor(from, 'ABORTED')).toEqual({ event_type: 'PLAN_ABORTED', sets: ['aborted_at'], gate: null });
    }
  });

  it('lists the targets reachable from each status, in table order', () => {
    expect(allowedTransitionsFrom('DRAFT')).toEqual(['APPROVED']);
    expect(allowedTransitionsFrom('APPROVED')).toEqual(['ACTIVE', 'ABORTED', 'EXPIRED']);
    expect(allowedTransitionsFrom('ACTIVE')).toEqual(['PAUSED', 'COMPLETED', 'ABORTED', 'EXPIRED']);
    expect(allowedTransitionsFrom('PAUSED')).toEqual(['ACTIVE', 'ABORTED']);
  });

  it('knows the terminal statuses', () => {
    expect(PLAN_STATUSES.filter(isTerminal)).toEqual(['COMPLETED', 'ABORTED', 'EXPIRED']);
  });

  it('reaches every status from DRAFT', () => {
    const reached = new Set<PlanStatus>(['DRAFT']);
    for (let grew = true; grew; ) {
      const before = reached.size;
      for (const s of [...reached]) for (const t of allowedTransitionsFrom(s)) reached.add(t);
      grew = reached.size > before;
    }
    expect([...reached].sort()).toEqual([...PLAN_STATUSES].sort());
  });

  it('cannot be changed by a caller', () => {
    const sets = transitionFor('DRAFT', 'APPROVED')!.sets as string[];
    expect(() => sets.push('expired_at')).toThrow(TypeError);
    expect(Object.isFrozen(LIFECYCLE_TRANSITIONS)).toBe(true);
    expect(LIFECYCLE_TRANSITIONS.every(Object.isFrozen)).toBe(true);
  });
});
