import type { Principal } from '../../auth/principal.js';
import { effectiveRoles } from '../../auth/roles.js';
import { isAppError } from '../../domain/errors.js';
import { runItemIdempotencyKey, runItemPlanId } from '../../domain/proposalRuns.js';
import { accountKey, type ItemSettlement, type ItemWarning, type ProposalRunStore, type StoredRun, type StoredRunItem } from '../../store/index.js';
import { asBackgroundWork } from '../llm/rateLimitedLlmClient.js';
import { type GeneratedProposal, type PlanProposalService, type PreviewedPlan } from '../plans/PlanProposalService.js';

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

/** Runs one item's task when the caller's limiter gives it a turn ('retry' when it does not run it). */
export type Schedule = <T>(task: () => Promise<T | 'retry'>) => Promise<T | 'retry'>;

/** The caller's turns: an item's (its limiter), and the chunk's store commands' (resolves when the chunk may go to the store). */
export interface Turns {
  item: Schedule;
  store: () => Promise<void>;
}

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

  async processBatch(run: StoredRun, items: readonly StoredRunItem[], turns: Turns): Promise<ItemResult[]> {
    const { runs } = this.deps;
    const schedule = turns.item;
    const accounts = items.map((i) => i.account_id);
    await turns.store();
    const [first, open] = await Promise.all([runs.firstIndexes(run.tenant_id, run.run_id, accounts), runs.openPlans(run.tenant_id, accounts, this.clock())]);
    const settled: { itemId: string; settlement: ItemSettlement }[] = [];
    const toPropose: StoredRunItem[] = [];
    for (const item of items) {
      const key = accountKey(item.account_id, item.plan_type);
      if ((first.get(key) ?? item.index) < item.index) {
        settled.push({ itemId: item.item_id, settlement: { outcome: 'SKIPPED_DUPLICATE' } });
        continue;
      }
      const ownPlanId = run.dry_run ? null : runItemPlanId(run.tenant_id, run.run_id, item.index);
      const openPlan = (open.get(key) ?? []).find((p) => p.plan_id !== ownPlanId);
      if (openPlan) settled.push({ itemId: item.item_id, settlement: { outcome: 'SKIPPED_OPEN_PLAN', plan_id: openPlan.plan_id } });
      else toPropose.push(item);
    }
    const proposed = run.dry_run
      ? await Promise.all(toPropose.map((item) => schedule(() => this.attempt(run, item, async (principal) => ({ outcome: 'WOULD_CREATE' as const, ...described(await this.deps.proposals.preview(principal, item.input)) })))))
      : await this.create(run, toPropose, turns);
    const retries = proposed.filter((p) => p === 'retry').length;
    toPropose.forEach((item, i) => {
      const settlement = proposed[i]!;
      if (settlement !== 'retry') settled.push({ itemId: item.item_id, settlement });
    });
    await turns.store();
    await runs.settleItems(run.tenant_id, settled, this.deps.holder, this.clock());
    return [...settled.map(() => 'settled' as const), ...Array.from({ length: retries }, () => 'retry' as const)];
  }

  /**
   * A real run's items: each proposal generated in its turn of the limiter, then all of them
   * stored in one batched write of the store (PlanStore.createPlans: the same protocol and
   * guarantees as one proposePlan each, with the item's own idempotency key).
   */
  private async create(run: StoredRun, items: readonly StoredRunItem[], turns: Turns): Promise<(ItemSettlement | 'retry')[]> {
    const { proposals } = this.deps;
    const generated = await Promise.all(
      items.map((item) => turns.item(() => this.attempt(run, item, (principal) => proposals.generateForRun(principal, { ...item.input, idempotencyKey: runItemIdempotencyKey(run.run_id, item.index) }, run.run_id)))),
    );
    const ready = items.flatMap((item, i) => {
      const g = generated[i]!;
      return isGenerated(g) ? [{ item, generated: g, at: i }] : [];
    });
    const results: (ItemSettlement | 'retry')[] = generated.map((g) => (isGenerated(g) ? 'retry' : g));
    if (ready.length === 0) return results;
    await turns.store();
    const stored = await proposals.proposeMany(runPrincipal(run), ready.map((r) => r.generated)).catch((error: unknown) => ready.map(() => ({ ok: false as const, error })));
    await Promise.all(
      ready.map(async ({ item, at }, i) => {
        const outcome = stored[i]!;
        results[at] = outcome.ok ? created(run, item, outcome.value) : await this.failed(run, item, outcome.error);
      }),
    );
    return results;
  }

  /** Runs one item's step as the run's creator, in the background lane of the model's limiter; a failure settles the item or leaves it for another try. */
  private async attempt<T>(run: StoredRun, item: StoredRunItem, step: (principal: Principal) => Promise<T>): Promise<T | ItemSettlement | 'retry'> {
    try {
      return await asBackgroundWork(() => step(runPrincipal(run)));
    } catch (e) {
      return this.failed(run, item, e);
    }
  }

  /** An item's failure: REJECTED, FAILED for good, or another try while it has tries left. */
  private async failed(run: StoredRun, item: StoredRunItem, e: unknown): Promise<ItemSettlement | 'retry'> {
    if (isAppError(e) && e.code === 'PROPOSAL_REJECTED') return { outcome: 'REJECTED', error: e.message };
    if (isAppError(e) && FINAL_CODES.has(e.code)) return { outcome: 'FAILED', error: `${e.code}: ${e.message}` };
    const attempts = await this.deps.runs.countAttempt(run.tenant_id, item.item_id).catch(() => 0);
    if (attempts < MAX_ITEM_ATTEMPTS) return 'retry';
    return { outcome: 'FAILED', error: isAppError(e) ? `${e.code}: ${e.message}` : 'internal error' };
  }
}

/** A CREATED outcome; the plan id is left out when it is the item's derived one (the store derives it on read). */
function created(run: StoredRun, item: StoredRunItem, proposed: PreviewedPlan & { plan: { plan_id: string } }): ItemSettlement {
  const planId = proposed.plan.plan_id;
  return { outcome: 'CREATED', ...(planId === runItemPlanId(run.tenant_id, run.run_id, item.index) ? {} : { plan_id: planId }), ...described(proposed) };
}

const isGenerated = (g: GeneratedProposal | ItemSettlement | 'retry'): g is GeneratedProposal => typeof g === 'object' && 'create' in g;

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
