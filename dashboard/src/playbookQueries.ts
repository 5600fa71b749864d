// The tenant playbook's operations (docs/playbooks.md); result types are generated from these
// documents (codegen.yml) like queries.ts's.
export type {
  DashboardPlaybookVersionsQuery,
  DashboardPlaybookDiffQuery,
  DashboardDraftPlaybookMutation,
  DashboardPublishPlaybookMutation,
  DashboardRetirePlaybookMutation,
} from './generated/operations.js';
import type { DashboardPlaybookVersionsQuery } from './generated/operations.js';

export type PlaybookVersion = DashboardPlaybookVersionsQuery['planTypeConfigVersions'][number];

export const PLAYBOOK_VERSIONS: string = /* GraphQL */ `
  query DashboardPlaybookVersions {
    planTypeConfigVersions(planType: RENEWAL_DEFENSE) {
      version status contentHash createdBy createdAt publishedBy publishedAt basedOnVersion note
      config {
        allowedStepActionTypes defaultSequence objectiveTemplate expiresAtDaysFromCreation
        stepSchedule { actionType ownerRole dueDaysBeforeRenewal dueDaysAfterCreation }
        stepDescriptions { actionType description }
        gatePolicy { humanTouchActionTypes elevatedRiskActionTypes elevatedApproverRole }
        rules { renewalWindowDays usageDropPercent meetingCooldownDays escalationMinSeverity }
      }
    }
  }`;

export const PLAYBOOK_DIFF: string = /* GraphQL */ `
  query DashboardPlaybookDiff($from: Int!, $to: Int!) {
    planTypeConfigDiff(planType: RENEWAL_DEFENSE, fromVersion: $from, toVersion: $to) { path before after }
  }`;

export const DRAFT_PLAYBOOK: string = /* GraphQL */ `
  mutation DashboardDraftPlaybook($input: PlanTypeConfigInput!, $basedOn: Int, $note: String) {
    draftPlanTypeConfig(planType: RENEWAL_DEFENSE, input: $input, basedOnVersion: $basedOn, note: $note) { version status }
  }`;

export const PUBLISH_PLAYBOOK: string = /* GraphQL */ `
  mutation DashboardPublishPlaybook($version: Int!) {
    publishPlanTypeConfig(planType: RENEWAL_DEFENSE, version: $version) { version status }
  }`;

export const RETIRE_PLAYBOOK: string = /* GraphQL */ `
  mutation DashboardRetirePlaybook($version: Int!) {
    retirePlanTypeConfigDraft(planType: RENEWAL_DEFENSE, version: $version) { version status }
  }`;
