import type { Resolvers } from '../generated/graphql.js';
import { requireRole } from '../graphql/context.js';
import type { TransitionOutcome } from '../services/lifecycle/PlanLifecycleService.js';

const payload = (o: TransitionOutcome) => ({ ok: o.ok, plan: o.plan, reasons: o.reasons });

export const planMutationResolvers: Resolvers = {
  Query: {
    planActivationCheck: async (_root, { planId, preconditionsMet }, ctx) => {
      const decision = await ctx.services.lifecycle.activationCheck(requireRole(ctx, 'plan-viewer'), planId, preconditionsMet);
      return { canActivate: decision.can_activate, reasons: decision.reasons };
    },
  },
  Mutation: {
    proposePlan: (_root, { input }, ctx) => ctx.services.proposals.propose(requireRole(ctx, 'plan-proposer'), input),
    updateDraftPlan: async (_root, { planId, input }, ctx) =>
      payload(await ctx.services.lifecycle.updateDraft(requireRole(ctx, 'plan-proposer'), planId, input)),
    approvePlan: async (_root, { planId }, ctx) => payload(await ctx.services.lifecycle.approve(requireRole(ctx, 'plan-approver'), planId)),
    activatePlan: async (_root, { planId, preconditionsMet }, ctx) =>
      payload(await ctx.services.lifecycle.activate(requireRole(ctx, 'plan-approver'), planId, preconditionsMet)),
    pausePlan: async (_root, { planId, reason }, ctx) => payload(await ctx.services.lifecycle.pause(requireRole(ctx, 'plan-approver'), planId, reason)),
    resumePlan: async (_root, { planId, preconditionsMet }, ctx) =>
      payload(await ctx.services.lifecycle.resume(requireRole(ctx, 'plan-approver'), planId, preconditionsMet)),
    abortPlan: async (_root, { planId, reason }, ctx) => payload(await ctx.services.lifecycle.abort(requireRole(ctx, 'plan-approver'), planId, reason)),
  },
  ProposePlanPayload: {
    plan: (r) => r.plan,
    proposalId: (r) => r.proposal_id,
    source: (r) => r.source,
    droppedSteps: (r) => r.dropped_steps.map((d) => ({ actionType: d.action_type, reason: d.reason })),
    warnings: (r) => r.warnings,
    replayed: (r) => r.replayed,
    // Read only when asked for, so a proposal that does not want them costs no extra query.
    openPlans: (r, _args, ctx) => ctx.services.queries.openPlansLike(requireRole(ctx, 'plan-viewer'), r.plan),
  },
  PolicyGateReason: {
    code: (r) => r.code,
    message: (r) => r.message,
  },
};
