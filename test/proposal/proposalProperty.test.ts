import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { RENEWAL_DEFENSE_CONFIG } from '../../src/domain/planTypeConfig.js';
import { AppError } from '../../src/domain/errors.js';
import { LlmError, type LlmPlanClient } from '../../src/services/llm/llmPlanClient.js';
import { parseLlmDraft } from '../../src/services/llm/parseLlmDraft.js';
import { PlanProposalGenerator } from '../../src/services/proposal/PlanProposalGenerator.js';
import type { PlanProposalInput } from '../../src/services/proposal/proposalTypes.js';
import { validateForApproval } from '../../src/domain/policyGate/PlanPolicyGate.js';
import { checkEvidence } from '../../src/services/proposal/checkEvidence.js';
import { scheduleViolations } from '../../src/domain/stepSchedule.js';
import type { RevenuePlanV1 } from '../../src/domain/plan.js';

/**
 * Whatever the model returns, the generator's output passes the Policy Gate's approval
 * validation (with no tenant policy), keeps only evidence that points at the input and due dates
 * that keep the plan's invariants, or it is PROPOSAL_REJECTED (no allowed step left).
 */

const TENANT = 'tenant-p';
const NOW = new Date('2026-11-23T12:00:00Z');
const ALLOWED = RENEWAL_DEFENSE_CONFIG.allowed_step_action_types;

const hostileText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.constantFrom('', ' ', '\u0000', '\u202e', '\ud800', '</account_data>', 'APPROVED', '```', 'a'.repeat(700)),
);
const actionType = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ALLOWED) },
  { weight: 1, arbitrary: fc.constantFrom('APPROVE_PLAN', 'prep_renewal_brief', ` ${ALLOWED[0]}`, '', '__proto__', 'constructor') },
  { weight: 1, arbitrary: hostileText },
  { weight: 1, arbitrary: fc.anything() },
);
const dependencyIndex = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: -2, max: 8 }) },
  { weight: 1, arbitrary: fc.oneof(fc.double(), fc.integer(), fc.string(), fc.constant(null), fc.anything()) },
);
const evidenceItem = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record(
      {
        source: fc.oneof(fc.constantFrom('SIGNAL', 'POSTURE', 'HISTORY', 'TENANT_GOALS', 'signal', 'PLAN'), fc.anything()),
        index: fc.oneof(fc.integer({ min: -2, max: 5 }), fc.constant(null), fc.anything()),
        field: fc.oneof(fc.constantFrom('health', 'renewal_date', 'type', 'percent', 'at', 'retention_target', '__proto__', 'toString', ''), fc.constant(null), fc.anything()),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.anything() },
);
const step = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record(
      {
        action_type: actionType,
        depends_on: fc.oneof({ weight: 5, arbitrary: fc.array(dependencyIndex, { maxLength: 14 }) }, { weight: 1, arbitrary: fc.anything() }),
        rationale: fc.oneof(hostileText, fc.anything()),
        evidence: fc.oneof(
          { weight: 4, arbitrary: fc.array(evidenceItem, { maxLength: 14 }) },
          { weight: 1, arbitrary: fc.anything() },
        ),
        due_at: fc.oneof(fc.constant('1970-01-01T00:00:00Z'), fc.anything()),
        owner_role: fc.string(),
        step_id: fc.string(),
        status: fc.constantFrom('DONE', 'APPROVED'),
        sequence: fc.integer(),
        constraints: fc.object(),
      },
      { requiredKeys: ['action_type'] },
    ),
  },
  { weight: 1, arbitrary: fc.anything() },
);
const modelAnswer = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        objective: fc.oneof(hostileText, fc.anything()),
        steps: fc.array(step, { maxLength: 26 }),
        plan_status: fc.constantFrom('APPROVED', 'ACTIVE'),
        plan_type: fc.string(),
        plan_id: fc.string(),
        tenant_id: fc.string(),
        approved_by: fc.string(),
      },
      { requiredKeys: ['steps'] },
    ),
  },
  { weight: 1, arbitrary: fc.anything() },
);

/** A client that answers whatever the property hands it, even outside its contract. */
const scripted = (answer: unknown): LlmPlanClient => ({ model: 'scripted', proposeSteps: async () => answer as never });

const input = (account: string): PlanProposalInput => ({
  tenant_id: TENANT,
  account_id: account,
  plan_type: 'RENEWAL_DEFENSE',
  posture: { health: 'AT_RISK', renewal_date: '2027-01-07' },
  signals: [{ type: 'USAGE_DROP', percent: 30 }, { type: 'SUPPORT_RISK', severity: 'HIGH' }],
  history: [{ action_type: 'PREP_RENEWAL_BRIEF', at: '2026-10-01T00:00:00Z' }],
  tenant_goals: { retention_target: 0.95 },
});

/** Every kept evidence item points at the input; the due dates keep the plan's invariants. */
function expectExplained(plan: RevenuePlanV1, given: PlanProposalInput): void {
  for (const s of plan.steps) expect(checkEvidence(s.evidence, given, s.action_type).dropped).toEqual([]);
  expect(scheduleViolations(plan)).toEqual([]);
}

function expectApprovable(plan: Parameters<typeof validateForApproval>[0] & { plan_status: string }): void {
  expect(plan.plan_status).toBe('DRAFT');
  expect(plan.plan_type).toBe('RENEWAL_DEFENSE');
  expect(plan.tenant_id).toBe(TENANT);
  expect(validateForApproval(plan, TENANT)).toEqual({ valid: true, reasons: [] });
}

describe('property: any model output becomes an approvable DRAFT', () => {
  it('with fallback "rules": a valid, explained DRAFT from the model, or PROPOSAL_REJECTED when no allowed step survived', async () => {
    await fc.assert(
      fc.asyncProperty(modelAnswer, fc.string({ minLength: 1, maxLength: 40 }), async (answer, account) => {
        try {
          const result = await new PlanProposalGenerator({ llm: scripted(answer), fallback: 'rules', clock: () => NOW }).generateProposal(input(account));
          expect(result.source).toBe('LLM');
          expectApprovable(result.plan);
          expectExplained(result.plan, input(account));
          expect(Array.from(result.plan.objective).length).toBeLessThanOrEqual(500);
          for (const s of result.plan.steps) {
            expect(s.status).toBe('PENDING');
            if (s.rationale !== undefined) expect(s.rationale).not.toMatch(/[<>\p{Cc}\p{Cf}]/u);
          }
        } catch (e) {
          expect(e).toBeInstanceOf(AppError);
          expect((e as AppError).code).toBe('PROPOSAL_REJECTED');
        }
      }),
      { numRuns: 600 },
    );
  });

  it('with fallback "error": a valid DRAFT or PROPOSAL_REJECTED, nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(modelAnswer, async (answer) => {
        try {
          const result = await new PlanProposalGenerator({ llm: scripted(answer), fallback: 'error', clock: () => NOW }).generateProposal(input('acme'));
          expect(result.source).toBe('LLM');
          expectApprovable(result.plan);
        } catch (e) {
          expect(e).toBeInstanceOf(AppError);
          expect((e as AppError).code).toBe('PROPOSAL_REJECTED');
        }
      }),
      { numRuns: 400 },
    );
  });

  it('hostile context never breaks the rules generator', async () => {
    const context = fc.record(
      {
        posture: fc.dictionary(fc.constantFrom('health', 'renewal_date', 'arr', 'x'), fc.oneof(fc.constantFrom('AT_RISK', 'CRITICAL', '2027-01-07', '2027-13-99'), fc.anything())),
        signals: fc.array(
          fc.oneof(
            fc.record({
              type: fc.constantFrom('RENEWAL_WINDOW', 'SUPPORT_RISK', 'USAGE_DROP', 'CHAMPION_LEFT', 'NPS_DETRACTOR', 'OTHER'),
              days_to_renewal: fc.oneof(fc.integer({ min: -400, max: 400 }), fc.double(), fc.anything()),
              renewal_date: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string()),
              severity: fc.constantFrom('LOW', 'MEDIUM', 'HIGH', 'CRITICAL', 'NOPE'),
              open_escalations: fc.oneof(fc.integer({ min: -2, max: 5 }), fc.anything()),
              percent: fc.oneof(fc.integer({ min: -10, max: 120 }), fc.anything()),
            }, { requiredKeys: ['type'] }),
            fc.anything(),
          ),
          { maxLength: 12 },
        ),
        history: fc.array(
          fc.oneof(fc.record({ action_type: fc.constantFrom(...ALLOWED, 'X'), at: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.anything()) }), fc.anything()),
          { maxLength: 6 },
        ),
        tenant_goals: fc.dictionary(fc.string(), fc.anything()),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(context, async (ctx) => {
        const result = await new PlanProposalGenerator({ llm: null, fallback: 'rules', clock: () => NOW }).generateProposal({ ...input('acme'), ...ctx });
        expect(result.source).toBe('RULES');
        expectApprovable(result.plan);
        expectExplained(result.plan, { ...input('acme'), ...ctx });
        expect(result.plan.steps.map((s) => s.action_type)).toContain('PREP_RENEWAL_BRIEF');
        expect(result.warnings.length).toBeLessThanOrEqual(50);
      }),
      { numRuns: 400 },
    );
  });

  it('any answer text either parses to a draft envelope or is an LlmError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.json(), fc.anything().map((v) => JSON.stringify(v) ?? '')), (text) => {
        try {
          const draft = parseLlmDraft(text);
          expect(Array.isArray(draft.steps)).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(LlmError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
