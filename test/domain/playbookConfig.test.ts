import { describe, expect, it } from '@jest/globals';
import { AppError } from '../../src/domain/errors.js';
import { parsePlanTypeConfigInput, toPlanTypeConfigInput } from '../../src/domain/playbookConfig.js';
import { diffPlaybooks, playbookContentHash } from '../../src/domain/playbookDiff.js';
import { RENEWAL_DEFENSE_CONFIG } from '../../src/domain/planTypeConfig.js';

const BASE = toPlanTypeConfigInput(RENEWAL_DEFENSE_CONFIG);
type Input = ReturnType<typeof toPlanTypeConfigInput>;

function rejects(input: unknown): { message: string; fields: string[] } {
  try {
    parsePlanTypeConfigInput('RENEWAL_DEFENSE', input, 1);
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('BAD_USER_INPUT');
    return { message: (e as AppError).message, fields: (e as AppError).details?.fields as string[] };
  }
  throw new Error('accepted an incoherent version');
}

const edit = (change: (i: Input) => void): Input => {
  const copy = structuredClone(BASE) as Input;
  change(copy);
  return copy;
};

describe('playbook versions: parsing and coherence', () => {
  it('the built-in default round-trips through its input form with the same content hash', () => {
    const parsed = parsePlanTypeConfigInput('RENEWAL_DEFENSE', BASE, 0);
    expect(parsed).toEqual({ ...RENEWAL_DEFENSE_CONFIG });
    expect(playbookContentHash(parsed)).toBe(playbookContentHash(RENEWAL_DEFENSE_CONFIG));
    expect(playbookContentHash(parsed)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('fills what the input leaves out from the built-in default', () => {
    const { stepDescriptions: _d, gatePolicy: _g, rules: _r, ...minimal } = BASE;
    const parsed = parsePlanTypeConfigInput('RENEWAL_DEFENSE', { ...minimal, rules: { usageDropPercent: 35 } }, 3);
    expect(parsed.version).toBe(3);
    expect(parsed.rules).toEqual({ ...RENEWAL_DEFENSE_CONFIG.rules, usage_drop_percent: 35 });
    expect(parsed.gate_policy).toEqual(RENEWAL_DEFENSE_CONFIG.gate_policy);
    expect(parsed.step_descriptions).toEqual(RENEWAL_DEFENSE_CONFIG.step_descriptions);
  });

  it.each<[string, (i: Input) => void, string]>([
    ['empty allowed steps', (i) => { i.allowedStepActionTypes = []; }, 'input.allowedStepActionTypes'],
    ['a step outside the vocabulary', (i) => { i.allowedStepActionTypes.push('DISCOUNT'); }, 'input.allowedStepActionTypes.3'],
    ['a sequence step not allowed', (i) => { i.allowedStepActionTypes = ['PREP_RENEWAL_BRIEF', 'REQUEST_RENEWAL_MEETING']; i.stepSchedule = i.stepSchedule.filter((s) => s.actionType !== 'ESCALATE_SUPPORT_RISK'); }, 'input.defaultSequence.2'],
    ['an allowed step without schedule', (i) => { i.stepSchedule.pop(); }, 'input.stepSchedule'],
    ['due earlier along the sequence', (i) => { i.stepSchedule[2]!.dueDaysBeforeRenewal = 50; }, 'input.stepSchedule.2.dueDaysBeforeRenewal'],
    ['due earlier after creation', (i) => { i.stepSchedule[1]!.dueDaysAfterCreation = 3; }, 'input.stepSchedule.1.dueDaysAfterCreation'],
    ['a threshold out of range', (i) => { i.rules!.usageDropPercent = 150; }, 'input.rules.usageDropPercent'],
    ['an unknown severity', (i) => { (i.rules as Record<string, unknown>).escalationMinSeverity = 'SEVERE'; }, 'input.rules.escalationMinSeverity'],
    ['an unknown placeholder', (i) => { i.objectiveTemplate = 'Keep {account} until {renewal_date}'; }, 'input.objectiveTemplate'],
    ['a gate policy step not allowed', (i) => { i.gatePolicy!.humanTouchActionTypes = ['DISCOUNT']; }, 'input.gatePolicy.humanTouchActionTypes.0'],
    ['expiry out of range', (i) => { i.expiresAtDaysFromCreation = 0; }, 'input.expiresAtDaysFromCreation'],
    ['an unknown field', (i) => { (i as Record<string, unknown>).extra = 1; }, 'input'],
  ])('%s is BAD_USER_INPUT naming the path', (_name, change, path) => {
    const { fields, message } = rejects(edit(change));
    expect(fields).toContain(path);
    expect(message).toContain(path);
  });
});

describe('playbook versions: lists and defaults', () => {
  it('a step type listed twice is refused at its index', () => {
    const { message, fields } = rejects(edit((i) => i.allowedStepActionTypes.push('PREP_RENEWAL_BRIEF')));
    expect(message).toContain('PREP_RENEWAL_BRIEF is listed twice');
    expect(fields).toContain('input.allowedStepActionTypes.3');
  });

  it('thresholds left out keep the built-in values', () => {
    const parsed = parsePlanTypeConfigInput('RENEWAL_DEFENSE', edit((i) => (i.rules = { renewalWindowDays: 90 })), 1);
    expect(parsed.rules).toEqual({ ...RENEWAL_DEFENSE_CONFIG.rules, renewal_window_days: 90 });
  });
});

/** The built-in version without its last step (ESCALATE_SUPPORT_RISK), and the leaves a diff with it lists. */
const withoutEscalation = (): Input =>
  edit((i) => {
    i.allowedStepActionTypes = ['REQUEST_RENEWAL_MEETING', 'PREP_RENEWAL_BRIEF'];
    i.defaultSequence = ['REQUEST_RENEWAL_MEETING', 'PREP_RENEWAL_BRIEF'];
    i.stepSchedule = i.stepSchedule.slice(0, 2);
    i.stepDescriptions = i.stepDescriptions!.slice(0, 2);
  });
const ESCALATION_LEAVES = [
  'allowedStepActionTypes',
  'defaultSequence',
  'stepSchedule.ESCALATE_SUPPORT_RISK.ownerRole',
  'stepSchedule.ESCALATE_SUPPORT_RISK.dueDaysBeforeRenewal',
  'stepSchedule.ESCALATE_SUPPORT_RISK.dueDaysAfterCreation',
  'stepDescriptions.ESCALATE_SUPPORT_RISK',
];

describe('playbook versions: diff and hash', () => {
  it('lists changed leaf paths with before and after', () => {
    const next = parsePlanTypeConfigInput(
      'RENEWAL_DEFENSE',
      edit((i) => {
        i.stepSchedule[2]!.dueDaysBeforeRenewal = 20;
        i.rules!.renewalWindowDays = 90;
        i.gatePolicy!.humanTouchActionTypes = ['REQUEST_RENEWAL_MEETING'];
      }),
      1,
    );
    expect(diffPlaybooks(RENEWAL_DEFENSE_CONFIG, next)).toEqual([
      { path: 'stepSchedule.ESCALATE_SUPPORT_RISK.dueDaysBeforeRenewal', before: 30, after: 20 },
      { path: 'gatePolicy.humanTouchActionTypes', before: [], after: ['REQUEST_RENEWAL_MEETING'] },
      { path: 'rules.renewalWindowDays', before: 120, after: 90 },
    ]);
    expect(diffPlaybooks(next, next)).toEqual([]);
    expect(playbookContentHash(next)).not.toBe(playbookContentHash(RENEWAL_DEFENSE_CONFIG));
  });

  it('a step that goes away lists each of its leaves', () => {
    const next = parsePlanTypeConfigInput('RENEWAL_DEFENSE', withoutEscalation(), 1);
    const paths = diffPlaybooks(RENEWAL_DEFENSE_CONFIG, next).map((c) => c.path);
    expect(paths).toEqual(ESCALATION_LEAVES);
    expect(diffPlaybooks(RENEWAL_DEFENSE_CONFIG, next).at(-1)?.after).toBeUndefined();
  });

  it('a step that appears lists each of its leaves, with nothing before', () => {
    const fewer = parsePlanTypeConfigInput('RENEWAL_DEFENSE', withoutEscalation(), 1);
    const changes = diffPlaybooks(fewer, RENEWAL_DEFENSE_CONFIG);
    expect(changes.map((c) => c.path)).toEqual(ESCALATION_LEAVES);
    expect(changes.at(-1)).toEqual({ path: 'stepDescriptions.ESCALATE_SUPPORT_RISK', before: undefined, after: RENEWAL_DEFENSE_CONFIG.step_descriptions['ESCALATE_SUPPORT_RISK'] });
  });

  it('the hash ignores the version number and key order', () => {
    const a = parsePlanTypeConfigInput('RENEWAL_DEFENSE', BASE, 4);
    const reordered = edit((i) => i.stepSchedule.reverse());
    const b = parsePlanTypeConfigInput('RENEWAL_DEFENSE', { ...reordered, defaultSequence: BASE.defaultSequence }, 9);
    expect(playbookContentHash(a)).toBe(playbookContentHash(b));
  });
});
