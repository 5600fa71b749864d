import type { Principal } from '../../auth/principal.js';
import { effectiveRoles } from '../../auth/roles.js';
import { isAppError } from '../../domain/errors.js';
import { runItemIdempotencyKey } from '../../domain/proposalRuns.js';
import { accountKey, type ItemSettlement, type ItemWarning, type ProposalRunStore, type StoredRun, type StoredRunItem } from '../../store/index.js';
import { asBackgroundWork } from '../llm/rateLimitedLlmClient.js';
import { idempotentPlanId, type PlanProposalService, type PreviewedPlan } from '../plans/PlanProposalService.js';

/** Failures that may pass (the store or the model away): the item is tried again, this many times in all. */
export const MAX_ITEM_ATTEMPTS = 3;

export interface RunItemProcessorDeps {
  runs: ProposalRunStore;
  proposals: PlanProposalService;
  /** Who settles items here (this instance's lease holder id). */
  holder: string;
  clock?: () => Date;
}

/** What processing an item did: settled it, or left it PENDING for another try. */
export type ItemResult = 'settled' | 'retry';

/** Runs one item's proposal when the caller's limiter gives it a turn ('retry' when it does not run it). */
export type Schedule = (task: () => Promise<ItemSettlement | 'retry'>) => Promise<ItemSettlement | 'retry'>;

/**
 * Processes a batch of a run's PENDING items, each exactly as proposePlan would process its
 * input, through the same PlanProposalService (generator, sanitizer, explanations, warnings), as
 * the run's creator within the run's tenant. Per item, in order:
 * 1. a later item for an account already in the run: SKIPPED_DUPLICATE;
 * 2. an open plan of the type for the account (other than this item's own): SKIPPED_OPEN_PLAN
 *    with the newest one's id;
 * 3. a dry run: the proposal previewed, WOULD_CREATE; a real run: proposed with the item's own
 *    idempotency key (run, index), so a retry after a crash gets the plan it made: CREATED.
 * Steps 1 and 2 are one query each for the whole batch; the outcomes are written in one bulk
 * write, each conditional on the item being PENDING, so processing an item again changes nothing.
 */
export class RunItemProcessor {
  private readonly clock: () => Date;

  constructor(private readonly deps: RunItemProcessorDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  async processBatch(run: StoredRun, items: readonly StoredRunItem[], schedule: Schedule): Promise<ItemResult[]> {
    const { runs } = this.deps;
    const accounts = items.map((i) => i.account_id);
    const [first, open] = await Promise.all([runs.firstIndexes(run.tenant_id, run.run_id, accounts), runs.openPlans(run.tenant_id, accounts, this.clock())]);
    const settled: { itemId: string; settlement: ItemSettlement }[] = [];
    const results = await Promise.all(
      items.map(async (item): Promise<ItemResult> => {
        const key = accountKey(item.account_id, item.plan_type);
        if ((first.get(key) ?? item.index) < item.index) {
          settled.push({ itemId: item.item_id, settlement: { outcome: 'SKIPPED_DUPLICATE' } });
          return 'settled';
        }
        const ownPlanId = run.dry_run ? null : idempotentPlanId(run.tenant_id, runItemIdempotencyKey(run.run_id, item.index));
        const openPlan = (open.get(key) ?? []).find((p) => p.plan_id !== ownPlanId);
        if (openPlan) {
          settled.push({ itemId: item.item_id, settlement: { outcome: 'SKIPPED_OPEN_PLAN', plan_id: openPlan.plan_id } });
          return 'settled';
        }
        const settlement = await schedule(() => this.propose(run, item));
        if (settlement === 'retry') return 'retry';
        settled.push({ itemId: item.item_id, settlement });
        return 'settled';
      }),
    );
    await runs.settleItems(run.tenant_id, settled, this.deps.holder, this.clock());
    return results;
  }

  private async propose(run: StoredRun, item: StoredRunItem): Promise<ItemSettlement | 'retry'> {
    const { proposals, runs } = this.deps;
    const principal = runPrincipal(run);
    try {
      return await asBackgroundWork(async () => {
        if (run.dry_run) return { outcome: 'WOULD_CREATE' as const, ...described(await proposals.preview(principal, item.input)) };
        const key = runItemIdempotencyKey(run.run_id, item.index);
        const proposed = await proposals.propose(principal, { ...item.input, idempotencyKey: key }, { runId: run.run_id, likelyNew: true });
        return { outcome: 'CREATED' as const, plan_id: proposed.plan.plan_id, ...described(proposed) };
      });
    } catch (e) {
      if (isAppError(e) && e.code === 'PROPOSAL_REJECTED') return { outcome: 'REJECTED', error: e.message };
      if (isAppError(e) && FINAL_CODES.has(e.code)) return { outcome: 'FAILED', error: `${e.code}: ${e.message}` };
      const attempts = await runs.countAttempt(run.tenant_id, item.item_id).catch(() => 0);
      if (attempts < MAX_ITEM_ATTEMPTS) return 'retry';
      return { outcome: 'FAILED', error: isAppError(e) ? `${e.code}: ${e.message}` : 'internal error' };
    }
  }
}

/** Errors that another try would only repeat. */
const FINAL_CODES: ReadonlySet<string> = new Set(['BAD_USER_INPUT', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'INVALID_TRANSITION']);

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
