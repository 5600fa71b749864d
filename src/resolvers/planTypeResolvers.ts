import type { Resolvers } from '../generated/graphql.js';
import { requireRole } from '../graphql/context.js';
import { stepScheduleRows } from '../services/planTypes/PlanTypeCatalog.js';

export const planTypeResolvers: Resolvers = {
  Query: {
    planTypes: (_root, _args, ctx) => {
      const principal = requireRole(ctx, 'plan-viewer');
      return ctx.services.planTypes.list(principal.tenantId);
    },
    planTypeConfig: (_root, { planType }, ctx) => {
      const principal = requireRole(ctx, 'plan-viewer');
      return ctx.services.planTypes.get(principal.tenantId, planType);
    },
  },
  PlanTypeConfig: {
    planType: (c) => c.plan_type,
    allowedStepActionTypes: (c) => [...c.allowed_step_action_types],
    defaultSequence: (c) => [...c.default_sequence],
    objectiveTemplate: (c) => c.objective_template,
    expiresAtDaysFromCreation: (c) => c.expires_at_days_from_creation,
    stepSchedule: (c) => stepScheduleRows(c),
    version: (c) => c.version,
    gatePolicy: (c) => c.gate_policy,
    rules: (c) => c.rules,
    stepDescriptions: (c) => Object.entries(c.step_descriptions).map(([action_type, description]) => ({ action_type, description })),
  },
  StepScheduleEntry: {
    actionType: (r) => r.action_type,
    ownerRole: (r) => r.owner_role,
    dueDaysBeforeRenewal: (r) => r.due_days_before_renewal,
    dueDaysAfterCreation: (r) => r.due_days_after_creation,
  },
};
