// The dashboard's step-work operations (schema/steps.graphql). Result types are generated from
// these documents like queries.ts's (`npm run codegen`).
import type { DashboardMyWorkQuery, DashboardStartStepMutation } from './generated/operations.js';

export type StepVerb = 'start' | 'complete' | 'skip' | 'fail' | 'assign';
export type StepPayload = DashboardStartStepMutation['startStep'];
export type MyWorkPlan = DashboardMyWorkQuery['plans']['edges'][number]['node'];

export const STEP_MUTATIONS: Record<StepVerb | 'completePlan', { field: string; document: string }> = {
  start: {
    field: 'startStep',
    document: /* GraphQL */ `mutation DashboardStartStep($planId: ID!, $stepId: ID!) { startStep(planId: $planId, stepId: $stepId) { ok reasons { code message } plan { planId status completionReason } } }`,
  },
  complete: {
    field: 'completeStep',
    document: /* GraphQL */ `mutation DashboardCompleteStep($planId: ID!, $stepId: ID!, $note: String) { completeStep(planId: $planId, stepId: $stepId, note: $note) { ok reasons { code message } plan { planId status completionReason } } }`,
  },
  skip: {
    field: 'skipStep',
    document: /* GraphQL */ `mutation DashboardSkipStep($planId: ID!, $stepId: ID!, $reason: String!) { skipStep(planId: $planId, stepId: $stepId, reason: $reason) { ok reasons { code message } plan { planId status completionReason } } }`,
  },
  fail: {
    field: 'failStep',
    document: /* GraphQL */ `mutation DashboardFailStep($planId: ID!, $stepId: ID!, $reason: String!) { failStep(planId: $planId, stepId: $stepId, reason: $reason) { ok reasons { code message } plan { planId status completionReason } } }`,
  },
  assign: {
    field: 'assignStep',
    document: /* GraphQL */ `mutation DashboardAssignStep($planId: ID!, $stepId: ID!, $assignee: String) { assignStep(planId: $planId, stepId: $stepId, assignee: $assignee) { ok reasons { code message } plan { planId status completionReason } } }`,
  },
  completePlan: {
    field: 'completePlan',
    document: /* GraphQL */ `mutation DashboardCompletePlan($planId: ID!, $note: String) { completePlan(planId: $planId, note: $note) { ok reasons { code message } plan { planId status completionReason } } }`,
  },
};

/** The signed-in person's plans with an open step assigned to them (the steps are filtered here). */
export const MY_WORK: string = /* GraphQL */ `
  query DashboardMyWork($assignee: String!) {
    plans(filter: { assignee: $assignee }, first: 100) {
      edges { node { planId accountId status steps { stepId actionType status assignee dueAt overdue ownerRole } } }
    }
  }`;
