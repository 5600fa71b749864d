// The GraphQL operations the dashboard sends (static documents: codegen reads them from this file).
import type {
  DashboardActivationCheckQuery,
  DashboardApproveMutation,
  DashboardLedgerStatsQuery,
  DashboardPlanLedgerQuery,
  DashboardPlanQuery,
  DashboardPlansQuery,
  DashboardProposeMutation,
  DashboardVerifyLedgerQuery,
  DashboardViewerQuery,
  DashboardWebhooksQuery,
} from './generated/operations.js';

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
  'PLAN_TYPE_CONFIG_PUBLISHED',
  'PLAN_TYPE_CONFIG_RETIRED',
] as const;
export type LedgerEventType = (typeof LEDGER_EVENT_TYPES)[number];

// Result types are generated from these documents and the schema (`npm run codegen`, into the
// git-ignored generated/operations.ts): the names below are views of them, never hand-written twins.
export type * from './generated/operations.js';
export type Viewer = DashboardViewerQuery['viewer'];
export type PageInfo = DashboardPlansQuery['plans']['pageInfo'];
export type PlanSummary = DashboardPlansQuery['plans']['edges'][number]['node'];
export type PlanDetail = NonNullable<DashboardPlanQuery['plan']>;
export type PlanStep = PlanDetail['steps'][number];
export type StepEvidence = PlanStep['evidence'][number];
export type LedgerEntry = DashboardPlanLedgerQuery['planLedger']['edges'][number]['node'];
export type LedgerVerification = DashboardVerifyLedgerQuery['verifyPlanLedger'];
export type LedgerEventCount = DashboardLedgerStatsQuery['ledgerStats'][number];
export type GateReason = DashboardActivationCheckQuery['planActivationCheck']['reasons'][number];
export type TransitionPayload = DashboardApproveMutation['approvePlan'];
export type ProposePayload = DashboardProposeMutation['proposePlan'];
export type ProposalWarning = ProposePayload['warnings'][number];
export type WebhookEndpoint = DashboardWebhooksQuery['webhookEndpoints'][number];
export type WebhookDelivery = DashboardWebhooksQuery['webhookDeliveries']['edges'][number]['node'];

export const VIEWER: string = /* GraphQL */ `query DashboardViewer { viewer { sub tenantId roles } }`;

export const PLANS: string = /* GraphQL */ `
  query DashboardPlans($filter: PlanFilter, $first: Int, $after: String) {
    plans(filter: $filter, first: $first, after: $after) {
      edges { cursor node { planId accountId objective status updatedAt expiresAt } }
      pageInfo { hasNextPage endCursor }
    }
  }`;

/** Plans per status, counted by the server (statuses without plans are left out). */
export const STATUS_COUNTS: string = /* GraphQL */ `
  query DashboardStatusCounts($filter: PlanFilter) {
    planStatusCounts(filter: $filter) { status count }
  }`;

export const PLAN_DETAIL: string = /* GraphQL */ `
  query DashboardPlan($planId: ID!) {
    plan(planId: $planId) {
      planId accountId objective status updatedAt expiresAt planType createdAt createdBy approvedAt approvedBy completedAt abortedAt expiredAt completionReason
      steps { stepId actionType status sequence dependencies rationale evidence { source index field } dueAt ownerRole }
    }
  }`;

export const PLAN_LEDGER: string = /* GraphQL */ `
  query DashboardPlanLedger($planId: ID!, $first: Int, $after: String) {
    planLedger(filter: { planId: $planId }, first: $first, after: $after) {
      edges { cursor node { entryId seq eventType timestamp actor data hash prevHash } }
      pageInfo { hasNextPage endCursor }
    }
  }`;

export const VERIFY_LEDGER: string = /* GraphQL */ `
  query DashboardVerifyLedger($planId: ID!) { verifyPlanLedger(planId: $planId) { planId valid entries brokenAtSeq } }`;

export const LEDGER_STATS: string = /* GraphQL */ `
  query DashboardLedgerStats($filter: LedgerFilter) { ledgerStats(filter: $filter) { eventType day count } }`;

export const ACTIVATION_CHECK: string = /* GraphQL */ `
  query DashboardActivationCheck($planId: ID!, $preconditionsMet: Boolean!) {
    planActivationCheck(planId: $planId, preconditionsMet: $preconditionsMet) { canActivate reasons { code message } }
  }`;

export const PROPOSE: string = /* GraphQL */ `
  mutation DashboardPropose($input: ProposePlanInput!) {
    proposePlan(input: $input) {
      proposalId source replayed droppedSteps { actionType reason }
      warnings { code message path }
      openPlans { planId status createdAt objective }
      plan { planId accountId status }
    }
  }`;

export type TransitionKind = 'approve' | 'activate' | 'pause' | 'resume' | 'abort';

export const TRANSITIONS: Record<TransitionKind, { field: string; document: string }> = {
  approve: {
    field: 'approvePlan',
    document: /* GraphQL */ `mutation DashboardApprove($planId: ID!) { approvePlan(planId: $planId) { ok reasons { code message } plan { planId status } } }`,
  },
  activate: {
    field: 'activatePlan',
    document: /* GraphQL */ `mutation DashboardActivate($planId: ID!, $preconditionsMet: Boolean!) { activatePlan(planId: $planId, preconditionsMet: $preconditionsMet) { ok reasons { code message } plan { planId status } } }`,
  },
  pause: {
    field: 'pausePlan',
    document: /* GraphQL */ `mutation DashboardPause($planId: ID!, $reason: String) { pausePlan(planId: $planId, reason: $reason) { ok reasons { code message } plan { planId status } } }`,
  },
  resume: {
    field: 'resumePlan',
    document: /* GraphQL */ `mutation DashboardResume($planId: ID!, $preconditionsMet: Boolean!) { resumePlan(planId: $planId, preconditionsMet: $preconditionsMet) { ok reasons { code message } plan { planId status } } }`,
  },
  abort: {
    field: 'abortPlan',
    document: /* GraphQL */ `mutation DashboardAbort($planId: ID!, $reason: String!) { abortPlan(planId: $planId, reason: $reason) { ok reasons { code message } plan { planId status } } }`,
  },
};

/** The tenant's webhook endpoints and its most recent deliveries (plan-admin). */
export const WEBHOOKS: string = /* GraphQL */ `
  query DashboardWebhooks($first: Int) {
    webhookEndpoints { endpointId url eventTypes enabled disabledReason createdAt }
    webhookDeliveries(first: $first) {
      edges { node { deliveryId endpointId eventId eventType status attempts lastStatusCode lastError nextAttemptAt deliveredAt } }
    }
  }`;

export const SEND_TEST_WEBHOOK: string = /* GraphQL */ `
  mutation DashboardSendTestWebhook($endpointId: ID!) { sendTestWebhook(endpointId: $endpointId) { deliveryId status } }`;
