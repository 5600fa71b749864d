import { createHash } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import type { Principal } from '../../auth/principal.js';
import { AppError } from '../../domain/errors.js';
import type { ProposalSource } from '../../domain/enums.js';
import type { RevenuePlanV1 } from '../../domain/plan.js';
import type { AppMetrics } from '../../observability/metrics.js';
import type { ProposalMeta } from '../../domain/proposalMeta.js';
import type { Store } from '../../store/index.js';
import type { PlanExpiry } from '../lifecycle/PlanExpiry.js';
import type { PlaybookReader } from '../planTypes/PlanTypeCatalog.js';
import type { PlanProposalGenerator } from '../proposal/PlanProposalGenerator.js';
import { collectInputWarnings, type InputWarning } from '../proposal/inputWarnings.js';
import type { DroppedStep } from '../proposal/proposalTypes.js';
import { canonicalEncode } from '../../domain/canonicalEncoding.js';
import { parseInput, ProposePlanInputSchema, type ProposePlanInputParsed } from './apiInputs.js';

/** Fixed namespace for plan ids derived from (tenant, idempotency key). */
const IDEMPOTENT_PLAN_NAMESPACE = '6f1d3c52-8a0e-4b7e-9a55-2f4c1e0b7d13';

export interface ProposedPlan {
  plan: RevenuePlanV1;
  proposal_id: string;
  source: ProposalSource;
  dropped_steps: DroppedStep[];
  warnings: InputWarning[];
  /** True when the idempotency key matched an earlier proposal (this call made nothing new). */
  replayed: boolean;
}

/**
 * proposePlan: validate, generate a DRAFT, persist it with its PLAN_CREATED entry.
 * Idempotency: the plan id is derived from (tenant, idempotencyKey), so a repeat — even one
 * racing the first — lands on the same document; the store's unique _id decides who wins and
 * everyone returns the stored proposal. Within this process, concurrent repeats of one key
 * also share one generation (single flight), so they make one model call, not one each.
 */
export class PlanProposalService {
  /** Proposals being made now, by plan id (tenant + idempotency key). */
  private readonly inFlight = new Map<string, Promise<{ result: ProposedPlan; requestHash: string }>>();

  constructor(
    private readonly deps: {
      store: Store;
      generator: PlanProposalGenerator;
      metrics: AppMetrics;
      expiry: PlanExpiry;
      /** The tenant's playbook in force; without it, the built-in config. */
      playbooks?: PlaybookReader;
    },
  ) {}

  async propose(principal: Principal, rawInput: unknown): Promise<ProposedPlan> {
    const input = parseInput(ProposePlanInputSchema, rawInput, 'input');
    if (input.tenantId != null && input.tenantId !== principal.tenantId) {
      throw new AppError('FORBIDDEN', 'input.tenantId differs from the tenant of your token');
    }
    const tenantId = principal.tenantId;
    const requestHash = fingerprint(input);
    const planId = input.idempotencyKey ? uuidv5(`${tenantId}\n${input.idempotencyKey}`, IDEMPOTENT_PLAN_NAMESPACE) : undefined;
    if (!planId) return this.proposeNew(principal, input, requestHash, undefined);

    const running = this.inFlight.get(planId);
    if (running) {
      // Someone is making this very proposal now: share its outcome (an error included).
      const leader = await running;
      if (leader.requestHash !== requestHash) throw reusedKey();
      return { ...leader.result, replayed: true };
    }
    const flight = this.proposeNew(principal, input, requestHash, planId).then((result) => ({ result, requestHash }));
    this.inFlight.set(planId, flight);
    try {
      return (await flight).result;
    } finally {
      this.inFlight.delete(planId);
    }
  }

  private async proposeNew(principal: Principal, input: ProposePlanInputParsed, requestHash: string, planId: string | undefined): Promise<ProposedPlan> {
    const tenantId = principal.tenantId;
    if (planId) {
      const existing = await this.deps.store.getPlanWithProposal(tenantId, planId);
      if (existing) return this.replay(principal, existing.plan, existing.proposal, requestHash, input);
    }

    const config = (await this.deps.playbooks?.current(tenantId, input.planType)) ?? undefined;
    const result = await this.deps.generator.generateProposal({
      tenant_id: tenantId,
      account_id: input.accountId,
      plan_type: input.planType,
      ...(input.posture ? { posture: input.posture } : {}),
      ...(input.signals ? { signals: input.signals } : {}),
      ...(input.history ? { history: input.history } : {}),
      ...(input.tenantGoals ? { tenant_goals: input.tenantGoals } : {}),
      ...(planId ? { plan_id: planId } : {}),
      created_by: principal.sub,
    }, config);

    const proposal: ProposalMeta = {
      proposal_id: result.proposal_id,
      source: result.source,
      dropped_steps: result.dropped_steps,
      ...(input.idempotencyKey ? { idempotency_key: input.idempotencyKey } : {}),
      request_hash: requestHash,
    };
    const stored = await this.deps.store.createPlan({
      plan: result.plan,
      event: { actor: principal.sub, data: result.audit },
      proposal,
    });
    if (!stored.created) return this.replay(principal, stored.plan, stored.proposal, requestHash, input);
    this.deps.metrics.proposals.inc({ source: result.source });
    return {
      plan: stored.plan,
      proposal_id: result.proposal_id,
      source: result.source,
      dropped_steps: result.dropped_steps,
      warnings: result.warnings,
      replayed: false,
    };
  }

  /** The earlier proposal, its plan as it is now (expired on read when past its expiry). */
  private async replay(principal: Principal, plan: RevenuePlanV1, proposal: ProposalMeta | null, requestHash: string, input: ProposePlanInputParsed): Promise<ProposedPlan> {
    if (!proposal) throw new AppError('INTERNAL_SERVER_ERROR', 'stored proposal metadata is missing');
    if (proposal.request_hash && proposal.request_hash !== requestHash) throw reusedKey();
    return {
      plan: await this.deps.expiry.expireIfDue(plan, { trigger: 'expired_on_read', touchedBy: principal.sub }),
      proposal_id: proposal.proposal_id,
      source: proposal.source,
      dropped_steps: proposal.dropped_steps,
      // The input is the one first proposed (same fingerprint) and reading it is pure: the same
      // input warnings (TRUNCATED_FOR_MODEL, which depends on the model call, is in the audit only).
      warnings: collectInputWarnings({ posture: input.posture ?? undefined, signals: input.signals ?? undefined, history: input.history ?? undefined }),
      replayed: true,
    };
  }
}

const reusedKey = (): AppError =>
  new AppError('BAD_USER_INPUT', 'idempotencyKey was already used with a different input', { fields: ['input.idempotencyKey'] });

/**
 * Stable hash of a request's meaning: key order does not matter, and a field sent as null
 * means the same as one left out.
 */
function fingerprint(input: ProposePlanInputParsed): string {
  const meaning = {
    accountId: input.accountId,
    planType: input.planType,
    posture: input.posture ?? undefined,
    signals: input.signals ?? undefined,
    history: input.history ?? undefined,
    tenantGoals: input.tenantGoals ?? undefined,
  };
  return createHash('sha256').update(canonicalEncode(meaning)).digest('hex');
}
