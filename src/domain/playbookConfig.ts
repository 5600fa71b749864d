import { z } from 'zod';
import { RENEWAL_DEFENSE_STEP_ACTION_TYPES, SUPPORT_SEVERITIES, type PlanType } from './enums.js';
import { AppError } from './errors.js';
import { getPlanTypeConfig, type PlanTypeConfig, type StepSchedule } from './planTypeConfig.js';

// A tenant's playbook version as data (docs/playbooks.md): the input an admin drafts, checked
// for shape (zod) and then for coherence, turned into the PlanTypeConfig everything reads.

/** The step vocabulary of each plan type: what a version may allow. */
export const STEP_VOCABULARY: Readonly<Record<PlanType, readonly string[]>> = { RENEWAL_DEFENSE: RENEWAL_DEFENSE_STEP_ACTION_TYPES };

export const MAX_PLAYBOOK_EXPIRY_DAYS = 365;
export const MAX_DUE_OFFSET_DAYS = 365;
export const MAX_OBJECTIVE_TEMPLATE_CHARS = 500;
export const MAX_STEP_DESCRIPTION_CHARS = 500;
/** The placeholders an objective template may use. */
export const TEMPLATE_PLACEHOLDERS = ['account_id', 'renewal_date'] as const;

const ActionType = z.string().min(1).max(64);
const Role = z.string().trim().min(1).max(64);
const Days = (min: number, max: number) => z.number().int().min(min).max(max);

/** The shape of PlanTypeConfigInput (GraphQL names); coherence is checked after it. */
export const PlanTypeConfigInputSchema = z
  .object({
    allowedStepActionTypes: z.array(ActionType).min(1).max(50),
    defaultSequence: z.array(ActionType).max(50),
    objectiveTemplate: z.string().trim().min(1).max(MAX_OBJECTIVE_TEMPLATE_CHARS),
    expiresAtDaysFromCreation: Days(1, MAX_PLAYBOOK_EXPIRY_DAYS),
    stepSchedule: z
      .array(
        z.object({
          actionType: ActionType,
          ownerRole: Role,
          dueDaysBeforeRenewal: Days(0, MAX_DUE_OFFSET_DAYS),
          dueDaysAfterCreation: Days(0, MAX_DUE_OFFSET_DAYS),
        }),
      )
      .max(50),
    stepDescriptions: z
      .array(z.object({ actionType: ActionType, description: z.string().trim().min(1).max(MAX_STEP_DESCRIPTION_CHARS) }))
      .max(50)
      .nullish(),
    gatePolicy: z
      .object({
        humanTouchActionTypes: z.array(ActionType).max(50).nullish(),
        elevatedRiskActionTypes: z.array(ActionType).max(50).nullish(),
        elevatedApproverRole: Role.nullish(),
      })
      .nullish(),
    rules: z
      .object({
        renewalWindowDays: Days(1, 730).nullish(),
        usageDropPercent: Days(1, 100).nullish(),
        meetingCooldownDays: Days(0, 365).nullish(),
        escalationMinSeverity: z.enum(SUPPORT_SEVERITIES).nullish(),
      })
      .nullish(),
  })
  .strict();
export type PlanTypeConfigInput = z.input<typeof PlanTypeConfigInputSchema>;
type ParsedInput = z.output<typeof PlanTypeConfigInputSchema>;

interface Issue {
  path: string;
  message: string;
}

/**
 * The config a version holds: `raw` checked for shape, then for coherence (allowed steps a
 * subset of the plan type's vocabulary, the default sequence within them, every allowed step
 * scheduled once, due dates never earlier along the sequence, only the known placeholders, the
 * gate policy within the allowed steps). Whatever the input leaves out (descriptions, gate
 * policy, thresholds) is the built-in default's. BAD_USER_INPUT naming each path (under `at`).
 */
export function parsePlanTypeConfigInput(planType: PlanType, raw: unknown, version: number, at = 'input'): PlanTypeConfig {
  const shaped = PlanTypeConfigInputSchema.safeParse(raw);
  if (!shaped.success) throw invalid(shaped.error.issues.map((i) => ({ path: joinPath(at, i.path), message: i.message })));
  const input = shaped.data;
  const issues = coherenceIssues(planType, input).map((i) => ({ path: joinPath(at, i.path.split('.')), message: i.message }));
  if (issues.length > 0) throw invalid(issues);
  return toConfig(planType, input, version);
}

function coherenceIssues(planType: PlanType, input: ParsedInput): Issue[] {
  const issues: Issue[] = [];
  const vocabulary = STEP_VOCABULARY[planType];
  const allowed = new Set(input.allowedStepActionTypes);
  const within = (list: readonly string[], path: string, set: ReadonlySet<string> | readonly string[], what: string): void => {
    const has = (t: string): boolean => (set instanceof Set ? set.has(t) : (set as readonly string[]).includes(t));
    const seen = new Set<string>();
    list.forEach((t, i) => {
      if (!has(t)) issues.push({ path: `${path}.${i}`, message: `${JSON.stringify(t)} is not ${what}` });
      else if (seen.has(t)) issues.push({ path: `${path}.${i}`, message: `${t} is listed twice` });
      seen.add(t);
    });
  };
  within(input.allowedStepActionTypes, 'allowedStepActionTypes', vocabulary, `a ${planType} step (${vocabulary.join(', ')})`);
  within(input.defaultSequence, 'defaultSequence', allowed, 'an allowed step');
  within(
    input.stepSchedule.map((s) => s.actionType),
    'stepSchedule',
    allowed,
    'an allowed step',
  );
  for (const type of allowed) {
    if (!input.stepSchedule.some((s) => s.actionType === type)) issues.push({ path: 'stepSchedule', message: `the allowed step ${type} has no schedule` });
  }
  within((input.stepDescriptions ?? []).map((d) => d.actionType), 'stepDescriptions', allowed, 'an allowed step');
  within(input.gatePolicy?.humanTouchActionTypes ?? [], 'gatePolicy.humanTouchActionTypes', allowed, 'an allowed step');
  within(input.gatePolicy?.elevatedRiskActionTypes ?? [], 'gatePolicy.elevatedRiskActionTypes', allowed, 'an allowed step');
  for (const m of input.objectiveTemplate.matchAll(/\{([^{}]*)\}/g)) {
    if (!(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(m[1] as string)) {
      issues.push({ path: 'objectiveTemplate', message: `unknown placeholder {${m[1]}} (only {account_id} and {renewal_date})` });
    }
  }
  // Along the default sequence a step is never due before the one ahead of it.
  const position = new Map(input.stepSchedule.map((s, i) => [s.actionType, i]));
  const ordered = input.defaultSequence.filter((t) => position.has(t));
  for (let k = 1; k < ordered.length; k++) {
    const a = input.stepSchedule[position.get(ordered[k - 1] as string) as number]!;
    const i = position.get(ordered[k] as string) as number;
    const b = input.stepSchedule[i]!;
    if (b.dueDaysBeforeRenewal > a.dueDaysBeforeRenewal) {
      issues.push({ path: `stepSchedule.${i}.dueDaysBeforeRenewal`, message: `${b.actionType} would be due before ${a.actionType}, which comes earlier in the default sequence` });
    }
    if (b.dueDaysAfterCreation < a.dueDaysAfterCreation) {
      issues.push({ path: `stepSchedule.${i}.dueDaysAfterCreation`, message: `${b.actionType} would be due before ${a.actionType}, which comes earlier in the default sequence` });
    }
  }
  return issues;
}

function toConfig(planType: PlanType, input: ParsedInput, version: number): PlanTypeConfig {
  const builtIn = getPlanTypeConfig(planType)!;
  const descriptions: Record<string, string> = {};
  for (const type of input.allowedStepActionTypes) {
    const given = input.stepDescriptions?.find((d) => d.actionType === type)?.description;
    // Every type of the plan type's vocabulary has a built-in description.
    descriptions[type] = given ?? (builtIn.step_descriptions[type] as string);
  }
  const schedule: Record<string, StepSchedule> = {};
  for (const s of input.stepSchedule) {
    schedule[s.actionType] = { owner_role: s.ownerRole, due_days_before_renewal: s.dueDaysBeforeRenewal, due_days_after_creation: s.dueDaysAfterCreation };
  }
  const gate = input.gatePolicy;
  const rules = input.rules;
  return {
    plan_type: planType,
    version,
    allowed_step_action_types: [...input.allowedStepActionTypes],
    default_sequence: [...input.defaultSequence],
    objective_template: input.objectiveTemplate,
    expires_at_days_from_creation: input.expiresAtDaysFromCreation,
    step_descriptions: descriptions,
    step_schedule: schedule,
    gate_policy: {
      human_touch_action_types: [...(gate?.humanTouchActionTypes ?? builtIn.gate_policy.human_touch_action_types)],
      elevated_risk_action_types: [...(gate?.elevatedRiskActionTypes ?? builtIn.gate_policy.elevated_risk_action_types)],
      elevated_approver_role: gate?.elevatedApproverRole ?? builtIn.gate_policy.elevated_approver_role,
    },
    rules: {
      renewal_window_days: rules?.renewalWindowDays ?? builtIn.rules.renewal_window_days,
      usage_drop_percent: rules?.usageDropPercent ?? builtIn.rules.usage_drop_percent,
      meeting_cooldown_days: rules?.meetingCooldownDays ?? builtIn.rules.meeting_cooldown_days,
      escalation_min_severity: rules?.escalationMinSeverity ?? builtIn.rules.escalation_min_severity,
    },
  };
}

/** A config as PlanTypeConfigInput (every optional part spelled out): what a draft based on it starts from. */
export function toPlanTypeConfigInput(config: PlanTypeConfig): ParsedInput {
  return {
    allowedStepActionTypes: [...config.allowed_step_action_types],
    defaultSequence: [...config.default_sequence],
    objectiveTemplate: config.objective_template,
    expiresAtDaysFromCreation: config.expires_at_days_from_creation,
    stepSchedule: Object.entries(config.step_schedule).map(([actionType, s]) => ({
      actionType,
      ownerRole: s.owner_role,
      dueDaysBeforeRenewal: s.due_days_before_renewal,
      dueDaysAfterCreation: s.due_days_after_creation,
    })),
    stepDescriptions: Object.entries(config.step_descriptions).map(([actionType, description]) => ({ actionType, description })),
    gatePolicy: {
      humanTouchActionTypes: [...config.gate_policy.human_touch_action_types],
      elevatedRiskActionTypes: [...config.gate_policy.elevated_risk_action_types],
      elevatedApproverRole: config.gate_policy.elevated_approver_role,
    },
    rules: {
      renewalWindowDays: config.rules.renewal_window_days,
      usageDropPercent: config.rules.usage_drop_percent,
      meetingCooldownDays: config.rules.meeting_cooldown_days,
      escalationMinSeverity: config.rules.escalation_min_severity,
    },
  };
}

const joinPath = (at: string, path: readonly PropertyKey[]): string => [at, ...path.map(String)].filter((p) => p !== '').join('.');

function invalid(issues: readonly Issue[]): AppError {
  const shown = issues.slice(0, 10);
  return new AppError('BAD_USER_INPUT', `Invalid playbook version: ${shown.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
    fields: [...new Set(shown.map((i) => i.path))],
    issues: shown,
  });
}
