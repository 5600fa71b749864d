// The GraphQL operations the dashboard sends, and the shapes it reads back (schema/*.graphql).

export const PLAN_STATUSES = ['DRAFT', 'APPROVED', 'ACTIVE', 'PAUSED', 'COMPLETED', 'ABORTED', 'EXPIRED'] as const;
export type PlanStatus = (typeof PLAN_STATUSES)[number];
export const TERMINAL_STATUSES: readonly PlanStatus[] = ['COMPLETED', 'ABORTED', 'EXPIRED'];

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
] as const;
export type LedgerEventType = (typeof LEDGER_EVENT_TYPES)[number];

export interface Viewer {
  sub: string;
  tenantId: string;
  roles: string[];
}

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
}

export interface PlanSummary {
  planId: string;
  accountId: string;
  objective: string;
  status: PlanStatus;
  updatedAt: string;
  expiresAt: string;
}

export interface PlanStep {
  stepId: string;
  actionType: string;
  status: string;
  sequence: number;
  dependencies: string[];
  rationale: string | null;
  evidence: StepEvidence[];
  dueAt: string | null;
  ownerRole: string | null;
}

export interface StepEvidence {
  source: 'SIGNAL' | 'POSTURE' | 'HISTORY' | 'TENANT_GOALS';
  index: number | null;
  field: string | null;
}

export interface ProposalWarning {
  code: string;
  message: string;
  path: string | null;
}

export interface PlanDetail extends PlanSummary {
  planType: string;
  createdAt: string;
  createdBy: string | null;
  approvedAt: string | null;
  approvedBy: string | null;
  completedAt: string | null;
  abortedAt: string | null;
  expiredAt: string | null;
  completionReason: string | null;
  steps: PlanStep[];
}

export interface LedgerEntry {
  entryId: string;
  seq: number;
  eventType: LedgerEventType;
  timestamp: string;
  actor: string | null;
  data: Record<string, unknown> | null;
  hash: string;
  prevHash: string | null;
}

export interface LedgerVerification {
  planId: string;
  valid: boolean;
  entries: number;
  brokenAtSeq: number | null;
}

export interface LedgerEventCount {
  eventType: LedgerEventType;
  day: string;
  count: number;
}

export interface GateReason {
  code: string;
  message: string;
}

export interface TransitionPayload {
  ok: boolean;
  reasons: GateReason[];
  plan: { planId: string; status: PlanStatus } | null;
}

export interface ProposePayload {
  proposalId: string;
  source: 'LLM' | 'RULES';
  droppedSteps: { actionType: string; reason: string }[];
  warnings: ProposalWarning[];
  replayed: boolean;
  openPlans: { planId: string; status: PlanStatus; createdAt: string; objective: string }[];
  plan: { planId: string; accountId: string; status: PlanStatus };
}

export const VIEWER = /* GraphQL */ `query DashboardViewer { viewer { sub tenantId roles } }`;

const PLAN_SUMMARY = 'planId accountId objective status updatedAt expiresAt';

export const PLANS = /* GraphQL */ `
  query DashboardPlans($filter: PlanFilter, $first: Int, $after: String) {
    plans(filter: $filter, first: $first, after: $after) {
      edges { cursor node { ${PLAN_SUMMARY} } }
      pageInfo { hasNextPage endCursor }
    }
  }`;

/** Plans per status, counted by the server (statuses without plans are left out). */
export const STATUS_COUNTS: string = /* GraphQL */ `
  query DashboardStatusCounts($filter: PlanFilter) {
    planStatusCounts(filter: $filter) { status count }
  }`;

export interface PlanStatusCount {
  status: PlanStatus;
  count: number;
}

export const PLAN_DETAIL = /* GraphQL */ `
  query DashboardPlan($planId: ID!) {
    plan(planId: $planId) {
      ${PLAN_SUMMARY} planType createdAt createdBy approvedAt approvedBy completedAt abortedAt expiredAt completionReason
      steps { stepId actionType status sequence dependencies rationale evidence { source index field } dueAt ownerRole }
    }
  }`;

export const PLAN_LEDGER = /* GraphQL */ `
  query DashboardPlanLedger($planId: ID!, $first: Int, $after: String) {
    planLedger(filter: { planId: $planId }, first: $first, after: $after) {
      edges { cursor node { entryId seq eventType timestamp actor data hash prevHash } }
      pageInfo { hasNextPage endCursor }
    }
  }`;

export const VERIFY_LEDGER = /* GraphQL */ `
  query DashboardVerifyLedger($planId: ID!) { verifyPlanLedger(planId: $planId) { planId valid entries brokenAtSeq } }`;

export const LEDGER_STATS = /* GraphQL */ `
  query DashboardLedgerStats($filter: LedgerFilter) { ledgerStats(filter: $filter) { eventType day count } }`;

export const ACTIVATION_CHECK = /* GraphQL */ `
  query DashboardActivationCheck($planId: ID!, $preconditionsMet: Boolean!) {
    planActivationCheck(planId: $planId, preconditionsMet: $preconditionsMet) { canActivate reasons { code message } }
  }`;

export const PROPOSE = /* GraphQL */ `
  mutation DashboardPropose($input: ProposePlanInput!) {
    proposePlan(input: $input) {
      proposalId source replayed droppedSteps { actionType reason }
      warnings { code message path }
      openPlans { planId status createdAt objective }
      plan { planId accountId status }
    }
  }`;

const TRANSITION_FIELDS = 'ok reasons { code message } plan { planId status }';

export type TransitionKind = 'approve' | 'activate' | 'pause' | 'resume' | 'abort';

export const TRANSITIONS: Record<TransitionKind, { field: string; document: string }> = {
  approve: {
    field: 'approvePlan',
    document: `mutation DashboardApprove($planId: ID!) { approvePlan(planId: $planId) { ${TRANSITION_FIELDS} } }`,
  },
  activate: {
    field: 'activatePlan',
    document: `mutation DashboardActivate($planId: ID!, $preconditionsMet: Boolean!) { activatePlan(planId: $planId, preconditionsMet: $preconditionsMet) { ${TRANSITION_FIELDS} } }`,
  },
  pause: {
    field: 'pausePlan',
    document: `mutation DashboardPause($planId: ID!, $reason: String) { pausePlan(planId: $planId, reason: $reason) { ${TRANSITION_FIELDS} } }`,
  },
  resume: {
    field: 'resumePlan',
    document: `mutation DashboardResume($planId: ID!, $preconditionsMet: Boolean!) { resumePlan(planId: $planId, preconditionsMet: $preconditionsMet) { ${TRANSITION_FIELDS} } }`,
  },
  abort: {
    field: 'abortPlan',
    document: `mutation DashboardAbort($planId: ID!, $reason: String!) { abortPlan(planId: $planId, reason: $reason) { ${TRANSITION_FIELDS} } }`,
  },
};
