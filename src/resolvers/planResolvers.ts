import type { Resolvers } from '../generated/graphql.js';
import { requireRole } from '../graphql/context.js';
import { toConnection } from '../graphql/connections.js';
import { selectsAny } from '../graphql/selection.js';
import { stepsInPlan } from '../domain/stepWorkload.js';
import { DEFAULT_PAGE_SIZE, PageArgsSchema, parseInput } from '../services/plans/apiInputs.js';

/** The Plan fields that read its steps: a list selecting none reads heads (docs/store.md, "Plan lists"). */
const STEP_FIELDS = ['steps', 'openSteps', 'overdueSteps'];

export const planResolvers: Resolvers = {
  Query: {
    plan: (_root, { planId }, ctx) => ctx.services.queries.getPlan(requireRole(ctx, 'plan-viewer'), planId),
    plans: async (_root, { filter, first, after }, ctx, info) => {
      const withSteps = selectsAny(info, ['edges', 'node'], STEP_FIELDS);
      return toConnection(await ctx.services.queries.listPlans(requireRole(ctx, 'plan-viewer'), filter, { first, after }, { withSteps }), { after });
    },
    planStatusCounts: (_root, { filter }, ctx) => ctx.services.queries.planStatusCounts(requireRole(ctx, 'plan-viewer'), filter, ctx.signal),
  },
  Plan: {
    planId: (p) => p.plan_id,
    planType: (p) => p.plan_type,
    tenantId: (p) => p.tenant_id,
    accountId: (p) => p.account_id,
    objective: (p) => p.objective,
    status: (p) => p.plan_status,
    steps: async (p, _args, ctx) => stepsInPlan(await ctx.loaders.wholePlan(p)),
    constraints: (p) => p.constraints ?? null,
    expiresAt: (p) => p.expires_at,
    createdAt: (p) => p.created_at,
    updatedAt: (p) => p.updated_at,
    createdBy: (p) => p.created_by ?? null,
    approvedAt: (p) => p.approved_at ?? null,
    approvedBy: (p) => p.approved_by ?? null,
    completedAt: (p) => p.completed_at ?? null,
    abortedAt: (p) => p.aborted_at ?? null,
    expiredAt: (p) => p.expired_at ?? null,
    completionReason: (p) => p.completion_reason ?? null,
    ledger: async (p, { first, after }, ctx) => {
      const principal = requireRole(ctx, 'plan-viewer');
      const page = parseInput(PageArgsSchema, { first, after }, 'ledger');
      if (page.after) return toConnection(await ctx.services.queries.planLedgerPage(principal, p.plan_id, page), page);
      return toConnection(await ctx.loaders.ledgerFirstPage(page.first ?? DEFAULT_PAGE_SIZE).load(p.plan_id), { after: null });
    },
  },
  PlanStep: {
    stepId: (s) => s.step_id,
    actionType: (s) => s.action_type,
    status: (s) => s.status,
    sequence: (s) => s.sequence,
    dependencies: (s) => s.dependencies,
    constraints: (s) => s.constraints ?? null,
    rationale: (s) => s.rationale ?? null,
    evidence: (s) => s.evidence ?? [],
    dueAt: (s) => s.due_at ?? null,
    ownerRole: (s) => s.owner_role ?? null,
  },
};
