import type { Principal } from '../../auth/principal.js';
import { effectiveRoles } from '../../auth/roles.js';
import { isAppError } from '../../domain/errors.js';
import { runItemIdempotencyKey } from '../../domain/proposalRuns.js';
import type { ItemSettlement, ItemWarning, ProposalRunStore, StoredRun, StoredRunItem } from '../../store/index.js';
import { asBackgroundWork } from '../llm/rateLimitedLlmClient.js';
import { idempotentPlanId, type PlanProposalService, type PreviewedPlan } from '../plans/PlanProposalService.js';
import type { PlanQueryService } from '../plans/PlanQueryService.js';

/** Failures that may pass (the store or the model away): the item is tried again, this many times in all. */
export const MAX_ITEM_ATTEMPTS = 3;

export interface RunItemProcessorDeps {
  runs: ProposalRunStore;
  proposals: PlanProposalService;
  queries: PlanQueryService;
  /** Who settles items here (this instance's lease holder id). */
  holder: string;
  clock?: () => Date;
}

/** What processing an item did: settled it, or left it PENDING for another try. */
export type ItemResult = 'settled' | 'retry';

/**
 * Processes one PENDING item of a run exactly as proposePlan would process its input, through
 * the same PlanProposalService (generator, sanitizer, explanations, warnings), as the run's
 * creator within the run's tenant. In order:
 * 1. a later item for an account already in the run: SKIPPED_DUPLICATE;
 * 2. an open plan of the type for the account (other than this item's own): SKIPPED_OPEN_PLAN;
 * 3. a dry run: the proposal previewed, WOULD_CREATE; a real run: proposed with the item's own
 *    idempotency key (run, index), so a retry after a crash replays the plan it made: CREATED.
 * The outcome is written once (conditional on PENDING): whoever processes an item again gets
 * the same plan and writes nothing new.
 */
export class RunItemProcessor {
  private readonly clock: () => Date;

  constructor(private readonly deps: RunItemProcessorDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  async process(run: StoredRun, item: StoredRunItem): Promise<ItemResult> {
    let settlement: ItemSettlement;
    try {
      settlement = await asBackgroundWork(() => this.decide(run, item));
    } catch (e) {
      if (isAppError(e) && e.code === 'PROPOSAL_REJECTED') settlement = { outcome: 'REJECTED', error: e.message };
      else if (isAppError(e) && ['BAD_USER_INPUT', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'INVALID_TRANSITION'].includes(e.code)) {
        settlement = { outcome: 'FAILED', error: `${e.code}: ${e.message}` };
      } else {
        const attempts = await this.deps.runs.countAttempt(run.tenant_id, item.item_id);
        if (attempts < MAX_ITEM_ATTEMPTS) return 'retry';
        settlement = { outcome: 'FAILED', error: isAppError(e) ? `${e.code}: ${e.message}` : 'internal error' };
      }
    }
    await this.deps.runs.settleItem(run.tenant_id, item.item_id, settlement, this.deps.holder, this.clock());
    return 'settled';
  }

  private async decide(run: StoredRun, item: StoredRunItem): Promise<ItemSettlement> {
    const { runs, proposals, queries } = this.deps;
    const first = await runs.firstIndexOfAccount(run.tenant_id, run.run_id, item.account_id, item.plan_type);
    if (first !== null && first < item.index) return { outcome: 'SKIPPED_DUPLICATE' };

    const principal = runPrincipal(run);
    const key = runItemIdempotencyKey(run.run_id, item.index);
    const ownPlanId = run.dry_run ? '' : idempotentPlanId(run.tenant_id, key);
    const open = await queries.openPlansLike(principal, { plan_id: ownPlanId, account_id: item.account_id, plan_type: item.plan_type as never });
    if (open[0]) return { outcome: 'SKIPPED_OPEN_PLAN', plan_id: open[0].plan_id };

    if (run.dry_run) {
      const preview = await proposals.preview(principal, item.input);
      return { outcome: 'WOULD_CREATE', ...described(preview) };
    }
    const proposed = await proposals.propose(principal, { ...item.input, idempotencyKey: key }, { runId: run.run_id });
    return { outcome: 'CREATED', plan_id: proposed.plan.plan_id, ...described(proposed) };
  }
}

/** The run's creator, as a proposer of the run's tenant: who the run's proposals are made by. */
function runPrincipal(run: StoredRun): Principal {
  return { sub: run.created_by, tenantId: run.tenant_id, claimedRoles: ['plan-proposer'], roles: effectiveRoles(['plan-proposer']) };
}

function described(p: PreviewedPlan): Pick<ItemSettlement, 'source' | 'steps' | 'warnings'> {
  const warnings: ItemWarning[] = p.warnings.map((w) => ({ code: w.code, message: w.message, path: w.path ?? null }));
  if (p.fallback_reason) {
    warnings.push({ code: 'MODEL_FALLBACK', message: `the model gave no usable answer (${p.fallback_reason}); the rules proposed these steps`, path: null });
  }
  return { source: p.source, steps: p.plan.steps.map((s) => s.action_type), warnings };
}
