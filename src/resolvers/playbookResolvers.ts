import type { Resolvers } from '../generated/graphql.js';
import { requireRole } from '../graphql/context.js';

// Tenant playbooks (docs/playbooks.md): viewers read versions and diffs, plan-admins draft,
// publish and retire. The version in force is PlanTypeConfig (planTypeResolvers).
export const playbookResolvers: Resolvers = {
  Query: {
    planTypeConfigVersions: (_root, { planType }, ctx) => ctx.services.playbooks.versions(requireRole(ctx, 'plan-viewer'), planType),
    planTypeConfigDiff: (_root, { planType, fromVersion, toVersion }, ctx) =>
      ctx.services.playbooks.diff(requireRole(ctx, 'plan-viewer'), planType, fromVersion, toVersion),
  },
  Mutation: {
    draftPlanTypeConfig: (_root, { planType, input, basedOnVersion, note }, ctx) =>
      ctx.services.playbooks.draft(requireRole(ctx, 'plan-admin'), planType, input, basedOnVersion, note),
    publishPlanTypeConfig: (_root, { planType, version }, ctx) => ctx.services.playbooks.publish(requireRole(ctx, 'plan-admin'), planType, version),
    retirePlanTypeConfigDraft: (_root, { planType, version }, ctx) => ctx.services.playbooks.retire(requireRole(ctx, 'plan-admin'), planType, version),
  },
  PlanTypeConfigVersion: {
    planType: (v) => v.plan_type,
    contentHash: (v) => v.content_hash,
    createdBy: (v) => v.created_by,
    createdAt: (v) => v.created_at,
    publishedBy: (v) => v.published_by,
    publishedAt: (v) => v.published_at,
    basedOnVersion: (v) => v.based_on_version,
    ledgerEntryId: (v) => v.ledger_entry_id,
  },
  PlanTypeConfigChange: {
    // A path only one side has: null on the other.
    before: (c) => c.before ?? null,
    after: (c) => c.after ?? null,
  },
  GatePolicy: {
    humanTouchActionTypes: (g) => [...g.human_touch_action_types],
    elevatedRiskActionTypes: (g) => [...g.elevated_risk_action_types],
    elevatedApproverRole: (g) => g.elevated_approver_role,
  },
  RulesThresholds: {
    renewalWindowDays: (r) => r.renewal_window_days,
    usageDropPercent: (r) => r.usage_drop_percent,
    meetingCooldownDays: (r) => r.meeting_cooldown_days,
    escalationMinSeverity: (r) => r.escalation_min_severity,
  },
  StepDescription: {
    actionType: (d) => d.action_type,
  },
  Plan: {
    planTypeConfigVersion: (p) => p.plan_type_config_version ?? 0,
  },
};
