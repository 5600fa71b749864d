import { createHash } from 'node:crypto';
import type { Principal } from '../../auth/principal.js';
import { AppError } from '../../domain/errors.js';
import { idempotentPlanId } from '../../domain/idempotentPlanId.js';
import type { RevenuePlanV1 } from '../../domain/plan.js';
import type { AppMetrics } from '../../observability/metrics.js';
import type { ProposalMeta } from '../../domain/proposalMeta.js';
import type { CreatePlanInput, CreatePlanResult, Outcome, Store } from '../../store/index.js';
import type { PlanExpiry } from '../lifecycle/PlanExpiry.js';
import type { PlaybookReader } from '../planTypes/PlanTypeCatalog.js';
import type { PlanProposalGenerator } from '../proposal/PlanProposalGenerator.js';
import { collectInputWarnings } from '../proposal/inputWarnings.js';
import type { PlanProposalResult } from '../proposal/proposalTypes.js';
import { canonicalEncode } from '../../domain/canonicalEncoding.js';
import { parseInput, ProposePlanInputSchema, type ProposePlanInputParsed } from './apiInputs.js';

export { idempotentPlanId };

/** The generator's result as the API answers it (schema ProposePlanPayload). */
export type ProposedPlan = Pick<PlanProposalResult, 'plan' | 'proposal_id' | 'source' | 'dropped_steps' | 'warnings' | 'fallback_reason'> & {
  /** True when the idempotency key matched an earlier proposal (this call made nothing new). */
  replayed: boolean;
};
/** A proposal made as proposePlan would make it, but not stored (a dry run's preview). */
export type PreviewedPlan = Omit<ProposedPlan, 'replayed'>;

/** A proposal generated and checked, with the store write that would keep it (generateForRun). */
export interface GeneratedProposal {
  readonly input: ProposePlanInputParsed;
  readonly requestHash: string;
  readonly result: PlanProposalResult;
  readonly create: CreatePlanInput;
}

/** Who else is asking: a run records its id in the PLAN_CREATED entry's data. */
export interface ProposeOptions {
  runId?: string;
  /**
   * The key is most likely new (a run's item): skip the read for an earlier proposal. A repeat
   * still returns the stored one, since the store's insert finds it (at the cost of a generation).
   */
  likelyNew?: boolean;
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

  async propose(principal: Principal, rawInput: unknown, options: ProposeOptions = {}): Promise<ProposedPlan> {
    const input = this.parse(principal, rawInput);
    const tenantId = principal.tenantId;
    const requestHash = fingerprint(input);
    const planId = input.idempotencyKey ? idempotentPlanId(tenantId, input.idempotencyKey) : undefined;
    if (!planId) return this.proposeNew(principal, input, requestHash, undefined, options);

    const running = this.inFlight.get(planId);
    if (running) {
      // Someone is making this very proposal now: share its outcome (an error included).
      const leader = await running;
      if (leader.requestHash !== requestHash) throw reusedKey();
      return { ...leader.result, replayed: true };
    }
    const flight = this.proposeNew(principal, input, requestHash, planId, options).then((result) => ({ result, requestHash }));
    this.inFlight.set(planId, flight);
    try {
      return (await flight).result;
    } finally {
      this.inFlight.delete(planId);
    }
  }

  /** The proposal proposePlan would make for this input, generated and checked but not stored. */
  async preview(principal: Principal, rawInput: unknown): Promise<PreviewedPlan> {
    const result = await this.generate(principal, this.parse(principal, rawInput), undefined);
    return {
      plan: result.plan,
      proposal_id: result.proposal_id,
      source: result.source,
      dropped_steps: result.dropped_steps,
      warnings: result.warnings,
      ...(result.fallback_reason ? { fallback_reason: result.fallback_reason } : {}),
    };
  }

  private parse(principal: Principal, rawInput: unknown): ProposePlanInputParsed {
    const input = parseInput(ProposePlanInputSchema, rawInput, 'input');
    if (input.tenantId != null && input.tenantId !== principal.tenantId) {
      throw new AppError('FORBIDDEN', 'input.tenantId differs from the tenant of your token');
    }
    return input;
  }

  private async generate(principal: Principal, input: ProposePlanInputParsed, planId: string | undefined) {
    const config = (await this.deps.playbooks?.current(principal.tenantId, input.planType)) ?? undefined;
    return this.deps.generator.generateProposal({
      tenant_id: principal.tenantId,
      account_id: input.accountId,
      plan_type: input.planType,
      ...(input.posture ? { posture: input.posture } : {}),
      ...(input.signals ? { signals: input.signals } : {}),
      ...(input.history ? { history: input.history } : {}),
      ...(input.tenantGoals ? { tenant_goals: input.tenantGoals } : {}),
      ...(planId ? { plan_id: planId } : {}),
      created_by: principal.sub,
    }, config);
  }

  private async proposeNew(principal: Principal, input: ProposePlanInputParsed, requestHash: string, planId: string | undefined, options: ProposeOptions): Promise<ProposedPlan> {
    if (planId && !options.likelyNew) {
      const existing = await this.deps.store.getPlanWithProposal(principal.tenantId, planId);
      if (existing) return this.replay(principal, existing.plan, existing.proposal, requestHash, input);
    }
    const generated = await this.generateToStore(principal, input, requestHash, planId, options);
    return this.stored(principal, generated, await this.deps.store.createPlan(generated.create));
  }

  /**
   * A run's proposal, generated but not stored yet: proposeMany stores a chunk of them at once.
   * The input carries the item's idempotency key (required); errors as propose's.
   */
  async generateForRun(principal: Principal, rawInput: unknown, runId: string): Promise<GeneratedProposal> {
    const input = this.parse(principal, rawInput);
    if (!input.idempotencyKey) throw new AppError('BAD_USER_INPUT', 'a run item needs its idempotency key', { fields: ['input.idempotencyKey'] });
    return this.generateToStore(principal, input, fingerprint(input), idempotentPlanId(principal.tenantId, input.idempotencyKey), { runId });
  }

  /**
   * Stores generated proposals in one batched write of the store (createPlans): per proposal,
   * what propose would return for it (a repeated key returns the stored proposal, replayed), or
   * its own error. Throws when the write failed as a whole (every proposal may be stored again).
   */
  async proposeMany(principal: Principal, generated: readonly GeneratedProposal[]): Promise<Outcome<ProposedPlan>[]> {
    const stored = await this.deps.store.createPlans(generated.map((g) => g.create));
    return Promise.all(
      stored.map(async (outcome, i): Promise<Outcome<ProposedPlan>> => {
        try {
          if (!outcome.ok) throw outcome.error;
          return { ok: true, value: await this.stored(principal, generated[i]!, outcome.value) };
        } catch (error) {
          return { ok: false, error };
        }
      }),
    );
  }

  private async generateToStore(principal: Principal, input: ProposePlanInputParsed, requestHash: string, planId: string | undefined, options: ProposeOptions): Promise<GeneratedProposal> {
    const result = await this.generate(principal, input, planId);
    const proposal: ProposalMeta = {
      proposal_id: result.proposal_id,
      source: result.source,
      dropped_steps: result.dropped_steps,
      ...(input.idempotencyKey ? { idempotency_key: input.idempotencyKey } : {}),
      request_hash: requestHash,
    };
    return {
      input,
      requestHash,
      result,
      create: { plan: result.plan, event: { actor: principal.sub, data: options.runId ? { ...result.audit, run_id: options.runId } : result.audit }, proposal },
    };
  }

  /** What propose answers once the store wrote (or found) the plan. */
  private async stored(principal: Principal, generated: GeneratedProposal, stored: CreatePlanResult): Promise<ProposedPlan> {
    const { input, requestHash, result } = generated;
    if (!stored.created) return this.replay(principal, stored.plan, stored.proposal, requestHash, input);
    this.deps.metrics.proposals.inc({ source: result.source });
    return {
      plan: stored.plan,
      proposal_id: result.proposal_id,
      source: result.source,
      dropped_steps: result.dropped_steps,
      warnings: result.warnings,
      replayed: false,
      ...(result.fallback_reason ? { fallback_reason: result.fallback_reason } : {}),
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
