import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Logger } from '../../observability/logger.js';
import type { ProposalRunStore, StoredRun } from '../../store/index.js';
import type { InteractiveLoad } from './InteractiveLoad.js';
import type { RunItemProcessor } from './RunItemProcessor.js';

export interface ProposalRunWorkerOptions {
  runs: ProposalRunStore;
  processor: RunItemProcessor;
  logger: Logger;
  /** This instance's lease holder id (hostname:pid:random by default). */
  holder?: string;
  /** Items this process works on at once, over all its runs. */
  concurrency: number;
  /** How long a lease lasts unless renewed: how long a dead instance's run waits. */
  leaseTtlMs: number;
  /** How often the instance looks for RUNNING runs nobody works. */
  pollMs: number;
  /** Runs this process works at once. */
  maxRuns?: number;
  /** API writes in flight: while there are some, items start one at a time. */
  interactive?: InteractiveLoad;
  clock?: () => Date;
}

/**
 * Items read, checked for duplicates and open plans, and (a real run's) stored at once: a chunk.
 * Fewer, larger writes cost the embedded store's single writer less per item (a chunk of 250
 * ran about 20% faster than one of 100; 500 no faster than 250).
 */
const MAX_BATCH = 250;
const STEP_ASIDE_MAX_MS = 250;
/** The lease is renewed at least this often, so a cancel stops a chunk's items within about as long. */
const HEARTBEAT_MAX_MS = 1000;
const STEP_ASIDE_POLL_MS = 2;
/** While API writes are in flight, an item starts at least this long after the last one ended: the API's turns come between. */
const STEP_ASIDE_GAP_MS = 8;

export const newHolderId = (): string => `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

/**
 * Works RUNNING runs in the background (docs/runs.md, "The worker"). Each run is worked by one
 * instance at a time, the one holding its lease (renewed on a heartbeat and before every batch;
 * a dead holder's run is taken over when its lease expires). A batch is the run's next
 * PENDING items in order (at most MAX_BATCH); they go through one concurrency limiter per process (`concurrency` items at
 * once, over all runs), each task first yielding to the event loop, and, while API writes
 * are in flight, starting only when no other item is being proposed (see stepAside), so
 * interactive requests keep getting their turn. Items left PENDING by a passing failure are picked up on the next
 * pass; when a pass finds none, the run is COMPLETED. A cancelled run's lease cannot be renewed:
 * its worker stops at the next batch.
 */
export class ProposalRunWorker {
  readonly holder: string;
  private readonly limit: LimitFunction;
  private readonly maxRuns: number;
  private readonly clock: () => Date;
  private readonly active = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private stopping = false;
  /** Items being proposed now (over all runs). */
  private proposing = 0;
  /** When the last item ended (performance.now()). */
  private lastItemEnd = 0;

  constructor(private readonly options: ProposalRunWorkerOptions) {
    this.holder = options.holder ?? newHolderId();
    this.limit = pLimit(options.concurrency);
    this.maxRuns = options.maxRuns ?? 2;
    this.clock = options.clock ?? (() => new Date());
  }

  start(): void {
    this.stopping = false;
    this.notify();
    this.timer = setInterval(() => this.notify(), this.options.pollMs);
    this.timer.unref();
  }

  /** Looks for work now (a run was just started here). */
  notify(): void {
    if (this.stopping || this.ticking) return;
    this.ticking = this.tick()
      .catch((e: unknown) => this.options.logger.warn({ err: e }, 'proposal run worker: looking for runs failed; will retry'))
      .finally(() => (this.ticking = null));
  }

  /** Stops taking items; waits for the items in flight, then gives the leases back. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
    await Promise.all(this.active.values());
  }

  /** Runs this instance is working now. */
  workingOn(): string[] {
    return [...this.active.keys()];
  }

  private async tick(): Promise<void> {
    if (this.active.size >= this.maxRuns) return;
    const running = await this.options.runs.listRunning(20);
    for (const run of running) {
      if (this.stopping || this.active.size >= this.maxRuns) return;
      if (this.active.has(run.run_id)) continue;
      if (!(await this.renew(run))) continue;
      const work = this.work(run)
        .catch((e: unknown) => this.options.logger.warn({ err: e, runId: run.run_id }, 'proposal run worker: run interrupted; will resume'))
        .finally(() => this.active.delete(run.run_id));
      this.active.set(run.run_id, work);
    }
  }

  /**
   * While API writes are in flight, one item at a time, each STEP_ASIDE_GAP_MS after the last
   * ended: an item waits (up to STEP_ASIDE_MAX_MS, so a busy API slows a run but never stops it).
   */
  private async stepAside(): Promise<void> {
    const interactive = this.options.interactive;
    if (!interactive) return;
    const until = Date.now() + STEP_ASIDE_MAX_MS;
    const busy = () => this.proposing > 0 || performance.now() - this.lastItemEnd < STEP_ASIDE_GAP_MS;
    while (interactive.inFlight() > 0 && busy() && Date.now() < until) await sleep(STEP_ASIDE_POLL_MS);
  }

  /**
   * A chunk's store command waits while API writes are in flight (up to STEP_ASIDE_MAX_MS): on
   * the embedded store's one writer, an interactive call queued behind a chunk's insert or bulk
   * update waits for all of it.
   */
  private async storeTurn(): Promise<void> {
    const interactive = this.options.interactive;
    if (!interactive) return;
    const until = Date.now() + STEP_ASIDE_MAX_MS;
    while (interactive.inFlight() > 0 && Date.now() < until) await sleep(STEP_ASIDE_POLL_MS);
  }

  private renew(run: StoredRun): Promise<boolean> {
    return this.options.runs.acquireLease(run.tenant_id, run.run_id, this.holder, this.clock(), this.options.leaseTtlMs);
  }

  private async work(run: StoredRun): Promise<void> {
    const { runs, processor, logger } = this.options;
    const batchSize = Math.min(MAX_BATCH, Math.max(8, this.options.concurrency * 64));
    // The lease is renewed on a heartbeat as well as before each batch, so a slow batch does
    // not let it lapse; once it cannot be renewed (cancelled, or taken over) no item starts.
    let held = true;
    const heartbeat = setInterval(() => {
      void this.renew(run).then(
        (ok) => (held &&= ok),
        () => undefined,
      );
    }, Math.min(HEARTBEAT_MAX_MS, Math.max(100, Math.floor(this.options.leaseTtlMs / 3))));
    heartbeat.unref();
    const working = () => held && !this.stopping;
    let after = -1;
    let retriesThisPass = 0;
    // Two batches at most in flight: the next one is read and checked while the last items of
    // the one before are still being proposed, so the limiter never runs dry between batches.
    const inFlight: Promise<void>[] = [];
    let failure: unknown = null;
    const drain = async (keep: number) => {
      while (inFlight.length > keep) await inFlight.shift();
      if (failure) throw failure;
    };
    try {
      while (working()) {
        if (!(await this.renew(run))) return; // cancelled, or another instance took it over
        await drain(1);
        const batch = await runs.pendingItems(run.tenant_id, run.run_id, after, batchSize);
        if (batch.length === 0) {
          await drain(0);
          if (after === -1) {
            const done = await runs.setStatus(run.tenant_id, run.run_id, ['RUNNING'], 'COMPLETED', this.clock());
            if (done) logger.info({ runId: run.run_id, tenantId: run.tenant_id }, 'proposal run completed');
            return;
          }
          // A pass is over; what a passing failure left PENDING is tried again, after a pause.
          if (retriesThisPass > 0) await sleep(Math.min(5000, this.options.pollMs));
          after = -1;
          retriesThisPass = 0;
          continue;
        }
        const processed = processor.processBatch(run, batch, {
          store: () => this.storeTurn(),
          item: (task) =>
            this.limit(async () => {
              await yieldToLoop();
              await this.stepAside();
              if (!working()) return 'retry' as const;
              this.proposing += 1;
              try {
                return await task();
              } finally {
                this.proposing -= 1;
                this.lastItemEnd = performance.now();
              }
            }),
        });
        inFlight.push(
          processed.then(
            (results) => void (retriesThisPass += results.filter((r) => r === 'retry').length),
            (e: unknown) => void (failure ??= e),
          ),
        );
        after = batch.at(-1)!.index;
      }
    } finally {
      await Promise.all(inFlight);
      clearInterval(heartbeat);
      await runs.releaseLease(run.tenant_id, run.run_id, this.holder).catch(() => undefined);
    }
  }
}
