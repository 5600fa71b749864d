// The product's closed vocabularies, as data. Zod schemas and the GraphQL enums are checked
// against these (see src/graphql/enumParity.ts), so there is one definition of each.

export const PLAN_TYPES = ['RENEWAL_DEFENSE'] as const;
export type PlanType = (typeof PLAN_TYPES)[number];

export const RENEWAL_DEFENSE_STEP_ACTION_TYPES = [
  'REQUEST_RENEWAL_MEETING',
  'PREP_RENEWAL_BRIEF',
  'ESCALATE_SUPPORT_RISK',
] as const;
export type RenewalDefenseStepActionType = (typeof RENEWAL_DEFENSE_STEP_ACTION_TYPES)[number];

/** How severe a SUPPORT_RISK signal is, least first. */
export const SUPPORT_SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type SupportSeverity = (typeof SUPPORT_SEVERITIES)[number];

export const PLAN_STATUSES = ['DRAFT', 'APPROVED', 'ACTIVE', 'PAUSED', 'COMPLETED', 'ABORTED', 'EXPIRED'] as const;
export type PlanStatus = (typeof PLAN_STATUSES)[number];

export const TERMINAL_PLAN_STATUSES: readonly PlanStatus[] = ['COMPLETED', 'ABORTED', 'EXPIRED'];

export const STEP_STATUSES = ['PENDING', 'PENDING_APPROVAL', 'AUTO_EXECUTED', 'DONE', 'SKIPPED', 'FAILED'] as const;
export type PlanStepStatus = (typeof STEP_STATUSES)[number];

export const LEDGER_EVENT_TYPES = [
  'PLAN_CREATED',
  'PLAN_UPDATED',
  'PLAN_APPROVED',
  'PLAN_ACTIVATED',
  'PLAN_PAUSED',
  'PLAN_RESUMED',
  'PLAN_ABORTED',
  'PLAN_COMPLETED',
  'PLAN_EXPIRED',
  'STEP_STARTED',
  'STEP_COMPLETED',
  'STEP_SKIPPED',
  'STEP_FAILED',
  // A tenant's playbook (docs/playbooks.md): chained per plan type under PLAYBOOK_CHAIN_PREFIX + plan type.
  'PLAN_TYPE_CONFIG_PUBLISHED',
  'PLAN_TYPE_CONFIG_RETIRED',
] as const;
export type LedgerEventType = (typeof LEDGER_EVENT_TYPES)[number];

export const PLAN_TYPE_CONFIG_VERSION_STATUSES = ['DRAFT', 'PUBLISHED', 'SUPERSEDED', 'RETIRED'] as const;
export type PlanTypeConfigVersionStatus = (typeof PLAN_TYPE_CONFIG_VERSION_STATUSES)[number];

export const GATE_REASON_CODES = [
  'CONFLICT_ACTIVE_PLAN',
  'PRECONDITIONS_UNMET',
  'RISK_ELEVATED',
  'INVALID_PLAN_TYPE',
  'STEP_ORDER_VIOLATION',
  'HUMAN_TOUCH_REQUIRED',
] as const;
export type GateReasonCode = (typeof GATE_REASON_CODES)[number];

export const PROPOSAL_SOURCES = ['LLM', 'RULES'] as const;
export type ProposalSource = (typeof PROPOSAL_SOURCES)[number];

export const COMPLETION_REASONS = ['objective_met', 'all_steps_done'] as const;
export type CompletionReason = (typeof COMPLETION_REASONS)[number];
