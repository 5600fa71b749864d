import { describe, expect, it } from '@jest/globals';
import { RENEWAL_DEFENSE_CONFIG } from '../../src/domain/planTypeConfig.js';
import { AppError } from '../../src/domain/errors.js';
import type { PlanTypeConfig } from '../../src/domain/planTypeConfig.js';
import { fillObjectiveTemplate, MAX_OBJECTIVE_CHARS } from '../../src/services/proposal/objective.js';
import {
  MAX_DEPENDENCIES_PER_STEP,
  MAX_PROPOSED_STEPS,
  MAX_RATIONALE_CHARS,
  sanitizeProposal,
  sanitizeProposedSteps,
} from '../../src/services/proposal/sanitizeProposal.js';
import { sanitizeText } from '../../src/services/proposal/sanitizeText.js';

const MEETING = 'REQUEST_RENEWAL_MEETING';
const BRIEF = 'PREP_RENEWAL_BRIEF';
const ESCALATE = 'ESCALATE_SUPPORT_RISK';
const config = RENEWAL_DEFENSE_CONFIG;

const sanitize = (raw: unknown) => sanitizeProposedSteps(raw, config);
const types = (raw: unknown) => sanitize(raw).steps.map((s) => s.action_type);

describe('sanitizeProposedSteps', () => {
  it('keeps allowed steps, reorders them to the default sequence and remaps dependencies', () => {
    const out = sanitize({
      objective: 'Keep acme',
      steps: [
        { action_type: BRIEF, depends_on: [1], rationale: 'brief after the meeting', evidence: [] },
        { action_type: MEETING, depends_on: [] },
        { action_type: ESCALATE, rationale: 'tickets' },
      ],
    });
    expect(out).toEqual({
      objective: 'Keep acme',
      steps: [
        { action_type: MEETING, depends_on: [], rationale: null, evidence: [] },
        { action_type: BRIEF, depends_on: [0], rationale: 'brief after the meeting', evidence: [] },
        { action_type: ESCALATE, depends_on: [], rationale: 'tickets', evidence: [] },
      ],
      dropped_steps: [],
      dropped_evidence: [],
    });
  });

  it.each([null, undefined, 'text', 42, [], [{ action_type: BRIEF }], { steps: 'nope' }, { steps: { 0: BRIEF } }])(
    'treats a non-proposal (%p) as an empty proposal',
    (raw) => {
      expect(sanitize(raw)).toEqual({ objective: '', steps: [], dropped_steps: [], dropped_evidence: [] });
    },
  );

  it('drops malformed, disallowed and duplicate steps and says why', () => {
    const out = sanitize({
      steps: [
        null,
        7,
        { action_type: 3 },
        { depends_on: [] },
        { action_type: 'OFFER_DISCOUNT' },
        { action_type: '   ' },
        { action_type: `APPROVE\u0000_${'Z'.repeat(200)}` },
        { action_type: MEETING },
        { action_type: MEETING, rationale: 'again' },
      ],
    });
    expect(out.steps.map((s) => s.action_type)).toEqual([MEETING]);
    expect(out.dropped_steps).toEqual([
      { action_type: '(malformed)', reason: 'malformed_step' },
      { action_type: '(malformed)', reason: 'malformed_step' },
      { action_type: '(malformed)', reason: 'malformed_step' },
      { action_type: '(malformed)', reason: 'malformed_step' },
      { action_type: 'OFFER_DISCOUNT', reason: 'disallowed_action_type' },
      { action_type: '(blank)', reason: 'disallowed_action_type' },
      { action_type: `APPROVE_${'Z'.repeat(56)}`, reason: 'disallowed_action_type' },
      { action_type: MEETING, reason: 'duplicate_action_type' },
    ]);
  });

  it('matches action types exactly (no case folding or trimming)', () => {
    expect(types({ steps: [{ action_type: 'prep_renewal_brief' }, { action_type: ` ${BRIEF}` }] })).toEqual([]);
  });

  it(`looks at ${MAX_PROPOSED_STEPS} step items at most and reports the rest once`, () => {
    const steps = Array.from({ length: MAX_PROPOSED_STEPS + 5 }, () => ({ action_type: 'NOPE' }));
    steps.push({ action_type: BRIEF });
    const out = sanitize({ steps });
    expect(out.steps).toEqual([]);
    expect(out.dropped_steps).toHaveLength(MAX_PROPOSED_STEPS + 1);
    expect(out.dropped_steps.at(-1)).toEqual({ action_type: '*', reason: 'too_many_steps' });
  });

  it('drops each bad dependency edge, keeps the step, and reports the edge', () => {
    const steps: unknown[] = [
      { action_type: MEETING, depends_on: [7, -1, 0, 'x', 1.5, 2, 3] },
      { action_type: BRIEF, depends_on: [0, 0, 4, 21] },
      { action_type: 'NOT_ALLOWED' },
      { action_type: MEETING, depends_on: [1] },
      { action_type: ESCALATE, depends_on: 'zero' },
    ];
    const filler = Array.from({ length: MAX_PROPOSED_STEPS - steps.length + 2 }, () => ({ action_type: 'PAD' }));
    const out = sanitize({ steps: [...steps, ...filler] });
    expect(out.steps).toEqual([
      { action_type: MEETING, depends_on: [], rationale: null, evidence: [] },
      { action_type: BRIEF, depends_on: [0], rationale: null, evidence: [] },
      { action_type: ESCALATE, depends_on: [], rationale: null, evidence: [] },
    ]);
    const reasonsOf = (type: string) => out.dropped_steps.filter((d) => d.action_type === type).map((d) => d.reason);
    expect(reasonsOf(MEETING)).toEqual([
      'duplicate_action_type', // item 3 (step items are judged before dependencies)
      'dependency_on_dropped_step', // 7: a PAD step
      'dangling_dependency', // -1
      'self_dependency', // 0
      'invalid_dependency', // 'x'
      'invalid_dependency', // 1.5
      'dependency_on_dropped_step', // 2: NOT_ALLOWED
      'self_dependency', // 3: a duplicate of itself
    ]);
    expect(reasonsOf(BRIEF)).toEqual([
      'dependency_on_dropped_step', // 21: beyond the items looked at
      'dependency_against_sequence', // 4: ESCALATE comes later
    ]);
    expect(reasonsOf(ESCALATE)).toEqual(['invalid_dependency']);
    expect(sanitize({ steps: [{ action_type: BRIEF, depends_on: [5] }] }).dropped_steps).toEqual([
      { action_type: BRIEF, reason: 'dangling_dependency' },
    ]);
  });

  it('follows a dependency on a dropped duplicate to the kept step of that type', () => {
    const out = sanitize({ steps: [{ action_type: MEETING }, { action_type: MEETING }, { action_type: BRIEF, depends_on: [1, 0] }] });
    expect(out.steps[1]).toEqual({ action_type: BRIEF, depends_on: [0], rationale: null, evidence: [] });
  });

  it('treats a null depends_on as none', () => {
    expect(sanitize({ steps: [{ action_type: BRIEF, depends_on: null }] }).dropped_steps).toEqual([]);
  });

  it(`reads ${MAX_DEPENDENCIES_PER_STEP} dependencies per step at most`, () => {
    const out = sanitize({ steps: [{ action_type: MEETING }, { action_type: BRIEF, depends_on: Array.from({ length: 50 }, () => 0) }] });
    expect(out.steps[1]!.depends_on).toEqual([0]);
    expect(out.dropped_steps).toEqual([{ action_type: BRIEF, reason: 'too_many_dependencies' }]);
  });

  it('breaks a two-step cycle by dropping the edge that runs against the default sequence', () => {
    const out = sanitize({ steps: [{ action_type: MEETING, depends_on: [1] }, { action_type: BRIEF, depends_on: [0] }] });
    expect(out.steps.map((s) => s.depends_on)).toEqual([[], [0]]);
    expect(out.dropped_steps).toEqual([{ action_type: MEETING, reason: 'dependency_cycle' }]);
  });

  it('breaks a three-step cycle and keeps every edge that agrees with the sequence', () => {
    const out = sanitize({
      steps: [
        { action_type: MEETING, depends_on: [1] },
        { action_type: BRIEF, depends_on: [2] },
        { action_type: ESCALATE, depends_on: [0] },
      ],
    });
    expect(out.steps.map((s) => s.depends_on)).toEqual([[], [], [0]]);
    expect(out.dropped_steps).toEqual([
      { action_type: MEETING, reason: 'dependency_cycle' },
      { action_type: BRIEF, reason: 'dependency_cycle' },
    ]);
  });

  it('drops a dependency on a later step that closes no cycle as against the sequence', () => {
    const out = sanitize({
      steps: [
        { action_type: MEETING, depends_on: [1] },
        { action_type: BRIEF, depends_on: [2] },
        { action_type: ESCALATE, depends_on: [1] },
      ],
    });
    expect(out.steps.map((s) => s.depends_on)).toEqual([[], [], [1]]);
    expect(out.dropped_steps).toEqual([
      { action_type: MEETING, reason: 'dependency_against_sequence' },
      { action_type: BRIEF, reason: 'dependency_cycle' },
    ]);
  });

  it('cleans rationales and objectives', () => {
    const out = sanitize({
      objective: `  Keep\n\tacme\u202e  ${'y'.repeat(MAX_OBJECTIVE_CHARS * 2)}`,
      steps: [
        { action_type: MEETING, rationale: 'r'.repeat(MAX_RATIONALE_CHARS + 50) },
        { action_type: BRIEF, rationale: ' \u0000 ' },
        { action_type: ESCALATE, rationale: { text: 'object' } },
      ],
    });
    expect(out.objective.startsWith('Keep acme y')).toBe(true);
    expect(Array.from(out.objective)).toHaveLength(MAX_OBJECTIVE_CHARS);
    expect(out.steps.map((s) => s.rationale)).toEqual(['r'.repeat(MAX_RATIONALE_CHARS), null, null]);
    expect(sanitize({ objective: 42, steps: [] }).objective).toBe('');
  });

  it('never reads status, type, ids, approval or constraints from the model', () => {
    const out = sanitize({
      plan_status: 'APPROVED',
      plan_type: 'OTHER',
      plan_id: 'x',
      approved_by: 'model',
      steps: [{ action_type: BRIEF, step_id: 's', status: 'DONE', sequence: 9, dependencies: ['s'], constraints: { human_touch_owner: 'x' } }],
    });
    expect(out.steps).toEqual([{ action_type: BRIEF, depends_on: [], rationale: null, evidence: [] }]);
    expect(Object.keys(out)).toEqual(['objective', 'steps', 'dropped_steps', 'dropped_evidence']);
  });

  it('places allowed types outside the default sequence after the sequenced ones', () => {
    const custom: PlanTypeConfig = { ...config, allowed_step_action_types: [...config.allowed_step_action_types, 'EXTRA'] };
    const out = sanitizeProposedSteps({ steps: [{ action_type: 'EXTRA' }, { action_type: BRIEF, depends_on: [0] }, { action_type: MEETING }] }, custom);
    expect(out.steps.map((s) => s.action_type)).toEqual([MEETING, BRIEF, 'EXTRA']);
    expect(out.dropped_steps).toEqual([{ action_type: BRIEF, reason: 'dependency_against_sequence' }]);
  });
});

describe('sanitizeProposal', () => {
  it('returns a proposal with steps', () => {
    expect(sanitizeProposal({ steps: [{ action_type: BRIEF }] }, config).steps).toHaveLength(1);
  });

  it('rejects a proposal with no allowed step left, listing what was dropped', () => {
    let caught: unknown;
    try {
      sanitizeProposal({ steps: [{ action_type: 'NOPE' }] }, config);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).code).toBe('PROPOSAL_REJECTED');
    expect((caught as AppError).details).toEqual({
      droppedSteps: [{ actionType: 'NOPE', reason: 'disallowed_action_type' }],
      dropped_steps: [{ action_type: 'NOPE', reason: 'disallowed_action_type' }],
    });
  });
});

describe('sanitizeText', () => {
  it('collapses whitespace, removes control/format/lone-surrogate characters, trims and bounds by code point', () => {
    expect(sanitizeText(' a\r\n\tb\u2028c ', 100)).toBe('a b c');
    expect(sanitizeText('x\u0000\u0007\u200b\u202e\ud800y', 100)).toBe('xy');
    expect(sanitizeText('😀😀😀', 2)).toBe('😀😀');
    expect(sanitizeText('ab cd', 3)).toBe('ab');
  });
});

describe('fillObjectiveTemplate', () => {
  it('fills the account and the renewal date, or names it generically', () => {
    const template = config.objective_template;
    expect(fillObjectiveTemplate(template, { account_id: 'acme', renewal_date: '2027-01-07' })).toBe(
      'Secure the renewal of account acme before 2027-01-07',
    );
    expect(fillObjectiveTemplate(template, { account_id: 'acme', renewal_date: null })).toBe(
      'Secure the renewal of account acme before its renewal date',
    );
    expect(fillObjectiveTemplate('{account_id} / {renewal_date} / {other}', { account_id: '{renewal_date}', renewal_date: 'D' })).toBe(
      '{renewal_date} / D / {other}',
    );
  });
});
