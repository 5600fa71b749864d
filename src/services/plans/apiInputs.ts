import { z } from 'zod';
import { PLAN_STATUSES, PLAN_TYPES, LEDGER_EVENT_TYPES } from '../../domain/enums.js';
import { EVIDENCE_SOURCES, MAX_EVIDENCE_FIELD_CHARS, MAX_EVIDENCE_PER_STEP, MAX_STEP_RATIONALE_CHARS } from '../../domain/plan.js';
import { AppError } from '../../domain/errors.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../domain/page.js';

export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE };

/** Edge validation of API inputs: one zod schema per input, parsed once, failures are BAD_USER_INPUT. */

export const MAX_SIGNALS = 200;
export const MAX_HISTORY = 200;
export const MAX_CONTEXT_JSON_BYTES = 64 * 1024;
export const MAX_OBJECTIVE_CHARS = 500;
export const MAX_STEPS = 10;
export const MAX_REASON_CHARS = 1000;
export const MAX_EXPIRY_DAYS = 365;

/** Ids: 1–128 printable ASCII characters, no spaces (they land in keys and logs). */
export const IdSchema = z.string().min(1).max(128).regex(/^[\x21-\x7e]+$/, 'must be 1–128 printable characters without spaces');

/** Human text: no control characters other than tab and newline. */
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => ![...s].some(isForbiddenControl), 'must not contain control characters');

/** C0 controls and DEL, except tab, newline and carriage return. */
function isForbiddenControl(ch: string): boolean {
  const code = ch.charCodeAt(0);
  return (code < 0x20 && ch !== '\t' && ch !== '\n' && ch !== '\r') || code === 0x7f;
}

const JsonObject = z.record(z.string(), z.unknown());

export const ProposePlanInputSchema = z
  .object({
    accountId: IdSchema,
    planType: z.string(),
    tenantId: IdSchema.nullish(),
    posture: JsonObject.nullish(),
    signals: z.array(z.unknown()).max(MAX_SIGNALS).nullish(),
    history: z.array(z.unknown()).max(MAX_HISTORY).nullish(),
    tenantGoals: JsonObject.nullish(),
    idempotencyKey: IdSchema.nullish(),
  })
  .superRefine((input, ctx) => {
    const size = Buffer.byteLength(JSON.stringify([input.posture, input.signals, input.history, input.tenantGoals]));
    if (size > MAX_CONTEXT_JSON_BYTES) {
      ctx.addIssue({ code: 'custom', path: ['signals'], message: `posture, signals, history and tenantGoals together exceed ${MAX_CONTEXT_JSON_BYTES} bytes of JSON` });
    }
  });
export type ProposePlanInputParsed = z.infer<typeof ProposePlanInputSchema>;

export const StepEvidenceInputSchema = z.object({
  source: z.enum(EVIDENCE_SOURCES),
  index: z.number().int().min(0).max(MAX_SIGNALS).nullish().transform((v) => v ?? null),
  field: z.string().min(1).max(MAX_EVIDENCE_FIELD_CHARS).nullish().transform((v) => v ?? null),
});

/** Role codes such as CSM or ACCOUNT_EXECUTIVE. */
export const OwnerRoleSchema = z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'must be an upper-case role code such as CSM or ACCOUNT_EXECUTIVE');

export const StepInputSchema = z.object({
  actionType: z.string().min(1).max(64),
  dependsOn: z.array(z.number().int().min(0).max(MAX_STEPS - 1)).max(MAX_STEPS).nullish(),
  constraints: JsonObject.nullish(),
  rationale: text(MAX_STEP_RATIONALE_CHARS).nullish(),
  evidence: z.array(StepEvidenceInputSchema).max(MAX_EVIDENCE_PER_STEP).nullish(),
  dueAt: z.date().nullish(),
  ownerRole: OwnerRoleSchema.nullish(),
});

export const UpdateDraftPlanInputSchema = z
  .object({
    objective: text(MAX_OBJECTIVE_CHARS).refine((s) => s.trim().length > 0, 'must not be blank').nullish(),
    steps: z.array(StepInputSchema).min(1).max(MAX_STEPS).nullish(),
    constraints: JsonObject.nullish(),
    expiresAt: z.date().nullish(),
  })
  .refine((i) => i.objective != null || i.steps != null || i.constraints != null || i.expiresAt != null, 'give at least one of objective, steps, constraints, expiresAt');
export type UpdateDraftPlanInputParsed = z.infer<typeof UpdateDraftPlanInputSchema>;

export const ReasonSchema = text(MAX_REASON_CHARS);

export const PlanFilterSchema = z
  .object({
    accountId: IdSchema.nullish(),
    status: z.array(z.enum(PLAN_STATUSES)).max(PLAN_STATUSES.length).nullish(),
    planType: z.enum(PLAN_TYPES).nullish(),
    overdue: z.boolean().nullish(),
    assignee: IdSchema.nullish(),
  })
  .nullish();

export const LedgerFilterSchema = z
  .object({
    planId: IdSchema.nullish(),
    accountId: IdSchema.nullish(),
    eventTypes: z.array(z.enum(LEDGER_EVENT_TYPES)).max(LEDGER_EVENT_TYPES.length).nullish(),
    since: z.date().nullish(),
    until: z.date().nullish(),
  })
  .nullish()
  .refine((f) => !f?.since || !f?.until || f.since <= f.until, 'since must not be after until');

export const PageArgsSchema = z.object({
  first: z
    .number()
    .int()
    .min(1, 'first must be at least 1')
    .max(MAX_PAGE_SIZE, `first must be at most ${MAX_PAGE_SIZE}`)
    .nullish()
    .transform((v) => v ?? DEFAULT_PAGE_SIZE),
  after: z.string().max(512).nullish().transform((v) => v ?? undefined),
});

/** Parses with a schema; failure is BAD_USER_INPUT naming each bad field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${[what, ...i.path.map(String)].join('.')}: ${i.message}`);
  throw new AppError('BAD_USER_INPUT', problems.join('; '), { fields: parsed.error.issues.map((i) => [what, ...i.path.map(String)].join('.')) });
}
