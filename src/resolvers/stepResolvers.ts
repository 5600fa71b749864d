import type { Resolvers } from '../generated/graphql.js';
import { requireAnyRole, requireRole } from '../graphql/context.js';
import type { TransitionOutcome } from '../services/lifecycle/PlanLifecycleService.js';
import { isStepOverdue, openStepCount, overdueStepCount } from '../domain/stepWorkload.js';

// Step work and completion (docs/steps.md): the people working a plan (proposer or approver)
// record step moves; completing a plan outright is the approver's.

const payload = (o: TransitionOutcome) => ({ ok: o.ok, plan: o.plan, reasons: o.reasons });
const WORKERS = ['plan-proposer', 'plan-approver'] as const;

export const stepResolvers: Resolvers = {
  Mutation: {
    completePlan: async (_root, { planId, note }, ctx) => payload(await ctx.services.lifecycle.complete(requireRole(ctx, 'plan-approver'), planId, note)),
    startStep: async (_root, { planId, stepId }, ctx) => payload(await ctx.services.steps.start(requireAnyRole(ctx, WORKERS), planId, stepId)),
    completeStep: async (_root, { planId, stepId, note }, ctx) =>
      payload(await ctx.services.steps.complete(requireAnyRole(ctx, WORKERS), planId, stepId, note)),
    skipStep: async (_root, { planId, stepId, reason }, ctx) => payload(await ctx.services.steps.skip(requireAnyRole(ctx, WORKERS), planId, stepId, reason)),
    failStep: async (_root, { planId, stepId, reason }, ctx) => payload(await ctx.services.steps.fail(requireAnyRole(ctx, WORKERS), planId, stepId, reason)),
    assignStep: async (_root, { planId, stepId, assignee }, ctx) =>
      payload(await ctx.services.steps.assign(requireAnyRole(ctx, WORKERS), planId, stepId, assignee)),
  },
  Plan: {
    openSteps: async (p, _args, ctx) => openStepCount(await ctx.loaders.wholePlan(p)),
    overdueSteps: async (p, _args, ctx) => overdueStepCount(await ctx.loaders.wholePlan(p), new Date()),
  },
  PlanStep: {
    startedAt: (s) => s.started_at ?? null,
    completedAt: (s) => s.completed_at ?? null,
    assignee: (s) => s.assignee ?? null,
    note: (s) => s.note ?? null,
    overdue: (s) => isStepOverdue(s.plan_status, s, new Date()),
  },
};
