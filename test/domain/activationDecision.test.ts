import { describe, expect, it } from '@jest/globals';
import { PLAN_STATUSES, type PlanStatus } from '../../src/domain/enums.js';
import type { RevenuePlanV1 } from '../../src/domain/plan.js';
import {
  activationRefusal,
  decideActivation,
  EXPIRING_STATUSES,
  isDueToExpire,
  reportActivation,
  type ActivationVerb,
} from '../../src/domain/activationDecision.js';
import { deepFreeze, TENANT } from './planFixtures.js';

const NOW = new Date('2026-12-01T08:00:00.000Z');
const LATER = new Date('2026-12-31T08:00:00.000Z');

function plan(status: PlanStatus, expiresAt: Date = LATER, overrides: Partial<RevenuePlanV1> = {}): RevenuePlanV1 {
  return deepFreeze({
    plan_id: 'plan-1',
    plan_type: 'RENEWAL_DEFENSE',
    tenant_id: TENANT,
    account_id: 'account-1',
    objective: 'keep the account',
    plan_status: status,
    steps: [{ step_id: 's1', action_type: 'PREP_RENEWAL_BRIEF', status: 'PENDING', sequence: 1, dependencies: [] }],
    expires_at: expiresAt,
    created_at: NOW,
    updated_at: NOW,
    ...overrides,
  });
}

const request = (p: RevenuePlanV1, existing: string[] = [], preconditions: unknown = true) => ({
  plan: p,
  now: NOW,
  tenant_id: TENANT,
  account_id: p.account_id,
  existing_active_plan_ids: existing,
  preconditions_met: preconditions,
});

describe('isDueToExpire', () => {
  it('is true exactly for APPROVED and ACTIVE plans whose expires_at is not after now', () => {
    expect(EXPIRING_STATUSES).toEqual(['APPROVED', 'ACTIVE']);
    for (const status of PLAN_STATUSES) {
      const expiring = status === 'APPROVED' || status === 'ACTIVE';
      expect([status, isDueToExpire(plan(status, new Date(NOW.getTime() - 1)), NOW)]).toEqual([status, expiring]);
      expect([status, isDueToExpire(plan(status, NOW), NOW)]).toEqual([status, expiring]);
      expect([status, isDueToExpire(plan(status, new Date(NOW.getTime() + 1)), NOW)]).toEqual([status, false]);
    }
  });
});

describe('activationRefusal', () => {
  const source: Record<ActivationVerb, PlanStatus> = { activate: 'APPROVED', resume: 'PAUSED' };

  it('refuses every status but the verb’s source status, naming the status', () => {
    for (const verb of ['activate', 'resume'] as const) {
      for (const status of PLAN_STATUSES) {
        const refusal = activationRefusal(verb, plan(status), NOW);
        if (status === source[verb]) {
          expect(refusal).toBeNull();
          continue;
        }
        expect(refusal?.details).toEqual({ status });
        expect(refusal?.message).toMatch(new RegExp(`^cannot ${verb} a plan that is ${status}`));
      }
    }
  });

  it('points a PAUSED plan at resumePlan', () => {
    expect(activationRefusal('activate', plan('PAUSED'), NOW)?.message).toBe('cannot activate a plan that is PAUSED (a PAUSED plan is resumed with resumePlan)');
    expect(activationRefusal('resume', plan('APPROVED'), NOW)?.message).toBe('cannot resume a plan that is APPROVED');
  });

  it('refuses a plan whose expiry has come, with the expiry in message and details', () => {
    expect(activationRefusal('activate', plan('APPROVED', NOW), NOW)).toEqual({
      message: 'the plan expired at 2026-12-01T08:00:00.000Z and can no longer be activated',
      details: { expiredAt: '2026-12-01T08:00:00.000Z' },
    });
    expect(activationRefusal('resume', plan('PAUSED', new Date(NOW.getTime() - 1)), NOW)?.message).toBe(
      'the plan expired at 2026-12-01T07:59:59.999Z and can no longer be resumed',
    );
  });
});

describe('decideActivation', () => {
  it('asks the gate only when status and expiry allow the move', () => {
    expect(decideActivation('activate', request(plan('APPROVED')))).toEqual({ kind: 'gate', can_activate: true, reasons: [] });
    expect(decideActivation('resume', request(plan('PAUSED')))).toEqual({ kind: 'gate', can_activate: true, reasons: [] });
    // A DRAFT of another tenant would make the gate throw FORBIDDEN: the lifecycle answers first.
    const foreign = plan('DRAFT', LATER, { tenant_id: 'other' });
    expect(decideActivation('activate', request(foreign))).toEqual({ kind: 'lifecycle', refusal: { message: 'cannot activate a plan that is DRAFT', details: { status: 'DRAFT' } } });
  });

  it('passes the gate’s refusals through, every one of them', () => {
    const verdict = decideActivation('activate', request(plan('APPROVED'), ['plan-9', 'plan-1'], false));
    expect(verdict.kind).toBe('gate');
    expect(verdict.kind === 'gate' && verdict.can_activate).toBe(false);
    expect(verdict.kind === 'gate' && verdict.reasons.map((r) => r.code)).toEqual(['CONFLICT_ACTIVE_PLAN', 'PRECONDITIONS_UNMET']);
  });

  it('refuses an expired APPROVED plan before the gate', () => {
    expect(decideActivation('activate', request(plan('APPROVED', NOW), ['plan-9'])).kind).toBe('lifecycle');
  });
});

describe('reportActivation', () => {
  it('turns a lifecycle refusal into one INVALID_TRANSITION reason and keeps gate answers as they are', () => {
    expect(reportActivation(decideActivation('activate', request(plan('ABORTED'))))).toEqual({
      can_activate: false,
      reasons: [{ code: 'INVALID_TRANSITION', message: 'cannot activate a plan that is ABORTED' }],
    });
    expect(reportActivation(decideActivation('activate', request(plan('APPROVED'), [], false)))).toEqual({
      can_activate: false,
      reasons: [{ code: 'PRECONDITIONS_UNMET', message: 'Activation preconditions are not met (preconditions_met is false, not true)' }],
    });
    expect(reportActivation(decideActivation('activate', request(plan('APPROVED'))))).toEqual({ can_activate: true, reasons: [] });
  });
});
