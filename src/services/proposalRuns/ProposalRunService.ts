import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Principal } from '../../auth/principal.js';
import { AppError } from '../../domain/errors.js';
import type { Page } from '../../domain/page.js';
import {
  MAX_RUN_ITEMS_PER_CALL,
  PROPOSAL_RUN_ITEM_OUTCOMES,
  RUN_TRANSITIONS,
  type ProposalRunCounts,
  type ProposalRunStatus,
} from '../../domain/proposalRuns.js';
import type { NewRunItem, ProposalRunStore, StoredRun, StoredRunItem } from '../../store/index.js';
import { IdSchema, PageArgsSchema, parseInput, ProposePlanInputSchema } from '../plans/apiInputs.js';

export interface ProposalRunServiceDeps {
  runs: ProposalRunStore;
  /** Tells this instance's worker that a run was started (it looks for work at once). */
  onStarted?: () => void;
  clock?: () => Date;
}

const ItemsArgsSchema = PageArgsSchema.extend({ outcome: z.enum(PROPOSAL_RUN_ITEM_OUTCOMES).nullish() });

/**
 * Proposal runs as the API sees them (docs/runs.md): create, fill, start, cancel, read. The
 * background worker does the proposing; this class only validates and records.
 */
export class ProposalRunService {
  private readonly clock: () => Date;

  constructor(private readonly deps: ProposalRunServiceDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  create(principal: Principal, dryRun: boolean): Promise<StoredRun> {
    return this.deps.runs.createRun({ run_id: randomUUID(), tenant_id: principal.tenantId, dry_run: dryRun, created_by: principal.sub, created_at: this.clock() });
  }

  /**
   * Validates every item as proposePlan validates its input (a bad one is BAD_USER_INPUT naming
   * its index, and nothing is added), then adds them all. An item's idempotencyKey is not
   * kept: the run gives each item its own.
   */
  async addItems(principal: Principal, rawRunId: unknown, rawItems: unknown): Promise<StoredRun> {
    const runId = parseInput(IdSchema, rawRunId, 'runId');
    if (!Array.isArray(rawItems) || rawItems.length === 0 || rawItems.length > MAX_RUN_ITEMS_PER_CALL) {
      throw new AppError('BAD_USER_INPUT', `items: give 1 to ${MAX_RUN_ITEMS_PER_CALL} items a call`, { fields: ['items'] });
    }
    const items: NewRunItem[] = rawItems.map((raw, i) => {
      const parsed = parseInput(ProposePlanInputSchema, raw, `items[${i}]`);
      if (parsed.tenantId != null && parsed.tenantId !== principal.tenantId) {
        throw new AppError('FORBIDDEN', `items[${i}].tenantId differs from the tenant of your token`, { fields: [`items[${i}].tenantId`] });
      }
      const { idempotencyKey: _key, tenantId: _tenant, ...input } = parsed;
      return { account_id: parsed.accountId, plan_type: parsed.planType, input };
    });
    await this.require(principal, runId);
    await this.deps.runs.addItems(principal.tenantId, runId, items);
    return this.require(principal, runId);
  }

  start(principal: Principal, rawRunId: unknown): Promise<StoredRun> {
    return this.move(principal, rawRunId, 'start', 'RUNNING');
  }

  cancel(principal: Principal, rawRunId: unknown): Promise<StoredRun> {
    return this.move(principal, rawRunId, 'cancel', 'CANCELLED');
  }

  async get(principal: Principal, rawRunId: unknown): Promise<StoredRun | null> {
    return this.deps.runs.getRun(principal.tenantId, parseInput(IdSchema, rawRunId, 'runId'));
  }

  /** A run's item by its id (`<runId>/<position>`), in the caller's tenant; null when there is none. */
  async getItem(principal: Principal, rawItemId: unknown): Promise<StoredRunItem | null> {
    return this.deps.runs.getItem(principal.tenantId, parseInput(IdSchema, rawItemId, 'itemId'));
  }

  list(principal: Principal, rawArgs: unknown): Promise<Page<StoredRun>> {
    return this.deps.runs.listRuns(principal.tenantId, parseInput(PageArgsSchema, rawArgs, 'args'));
  }

  counts(principal: Principal, run: StoredRun): Promise<ProposalRunCounts> {
    return this.deps.runs.counts(principal.tenantId, run.run_id);
  }

  items(principal: Principal, run: StoredRun, rawArgs: unknown): Promise<Page<StoredRunItem>> {
    const args = parseInput(ItemsArgsSchema, rawArgs, 'args');
    return this.deps.runs.listItems(principal.tenantId, run.run_id, args.outcome ? { outcome: args.outcome } : {}, args);
  }

  private async move(principal: Principal, rawRunId: unknown, action: keyof typeof RUN_TRANSITIONS, to: ProposalRunStatus): Promise<StoredRun> {
    const runId = parseInput(IdSchema, rawRunId, 'runId');
    const moved = await this.deps.runs.setStatus(principal.tenantId, runId, RUN_TRANSITIONS[action], to, this.clock());
    if (moved) {
      if (to === 'RUNNING') this.deps.onStarted?.();
      return moved;
    }
    const run = await this.require(principal, runId);
    throw new AppError('INVALID_TRANSITION', `cannot ${action} a ${run.status} run`, { status: run.status });
  }

  private async require(principal: Principal, runId: string): Promise<StoredRun> {
    const run = await this.deps.runs.getRun(principal.tenantId, runId);
    if (!run) throw new AppError('NOT_FOUND', 'no such run');
    return run;
  }
}
