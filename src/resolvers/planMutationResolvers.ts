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
    proposePlan: async (_root, { input }, ctx) => {
      const result = await ctx.services.proposals.propose(requireRole(ctx, 'plan-proposer'), input);
      return {
        plan: result.plan,
        proposalId: result.proposal_id,
        source: result.source,
        droppedSteps: result.dropped_steps.map((d) => ({ actionType: d.action_type, reason: d.reason })),
      };
    },
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
  PolicyGateReason: {
    code: (r) => r.code,
    message: (r) => r.message,
  },
};
