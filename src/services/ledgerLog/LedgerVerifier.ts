import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { combineCover, hashesEqual, fromHex, type Hash } from '../../domain/merkleTree.js';
import type { LedgerLogStore } from '../../store/index.js';
import { repeat, type Repeating } from '../../runtime/repeat.js';
import type { CheckpointSigner } from './checkpointSigner.js';
import { extendFrontier, readVerifiedPrefix, recordVerifiedPrefix, type VerifiedPrefix } from './verifiedPrefix.js';

// The background verifier: raises each tenant's verified prefix (verifiedPrefix.ts) checkpoint
// by checkpoint, recomputing every leaf from its stored entry, so no request has to make a
// tenant's first pass over its whole log. The sealer tells it of each checkpoint it signs (so
// the prefix follows the log within a round); at start, and now and then where several
// instances share the store, it looks at every tenant with checkpoints (older data).
// One step per tenant at a time, under a per-tenant lease renewed as it goes; progress is
// recorded at each checkpoint it reaches, so a process killed mid-way loses at most one step
// and whoever takes the lease next goes on from the recorded prefix. Paced: it sleeps so that
// it is busy at most `duty` of the time and recomputes at most `leavesPerSecond`.

export interface LedgerVerifierOptions {
  store: LedgerLogStore;
  signer: CheckpointSigner;
  logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Pause between rounds when nothing is due. */
  intervalMs: number;
  /** Leaves recomputed per second at most. */
  leavesPerSecond: number;
  /** Share of the wall time a pass may be busy (reading and hashing), 0 < duty ≤ 1. */
  duty?: number;
  /** Leaves one step verifies at most, when a checkpoint lies within (else up to the next checkpoint). */
  stepLeaves?: number;
  leaseTtlMs?: number;
  /** Also look at every tenant this often (0: only at start). */
  rescanIntervalMs?: number;
  onLeaves?: (n: number) => void;
  now?: () => Date;
}

/** Leaves read at once: one query for the leaves, one for their entries. */
const BATCH = 64;

export class LedgerVerifier {
  private readonly due = new Set<string>();
  private readonly holder = `verifier-${randomUUID()}`;
  private readonly duty: number;
  private readonly stepLeaves: number;
  private readonly leaseTtlMs: number;
  private readonly now: () => Date;
  private loop: Repeating | null = null;
  private stopped = false;
  private scanOwed = true;
  private lastScan = 0;
  private progressed = false;

  constructor(private readonly options: LedgerVerifierOptions) {
    this.duty = Math.min(1, Math.max(0.01, options.duty ?? 0.25));
    this.stepLeaves = options.stepLeaves ?? 1000;
    this.leaseTtlMs = options.leaseTtlMs ?? 10_000;
    this.now = options.now ?? (() => new Date());
  }

  /** A checkpoint was signed for the tenant: its new leaves are due. */
  notify(tenantId: string): void {
    this.due.add(tenantId);
  }

  start(): void {
    this.loop = repeat(() => this.round(), {
      intervalMs: this.options.intervalMs,
      firstDelayMs: 0,
      // Straight on while steps make progress; a tenant another instance holds waits a pause.
      nextDelayMs: () => (this.progressed ? 0 : this.options.intervalMs),
      onError: (e) => this.options.logger.warn({ err: e }, 'ledger verification round failed; will retry'),
    });
  }

  /** Ends the loop after the batch in flight (a step cut short leaves the prefix where it was). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop?.stop();
  }

  /** One round: a step for every due tenant. */
  async round(): Promise<void> {
    const every = this.options.rescanIntervalMs ?? 0;
    if (this.scanOwed || (every > 0 && Date.now() - this.lastScan >= every)) {
      this.lastScan = Date.now();
      for (const tenantId of await this.options.store.tenantsWithCheckpoints()) this.due.add(tenantId);
      this.scanOwed = false;
    }
    this.progressed = false;
    for (const tenantId of [...this.due]) {
      if (this.stopped) return;
      try {
        const outcome = await this.step(tenantId);
        if (outcome === 'done') this.due.delete(tenantId);
        if (outcome === 'more') this.progressed = true;
      } catch (e) {
        if (this.stopped) return;
        this.options.logger.warn({ err: e, tenant_id: tenantId }, "verifying a tenant's ledger log failed; will retry");
      }
    }
  }

  /**
   * Verifies the tenant's next checkpoint beyond its prefix. 'more': it did, more may follow;
   * 'busy': another instance holds the tenant (tried again next round); 'done': nothing to do
   * (up to date, or a mismatch is recorded).
   */
  async step(tenantId: string): Promise<'more' | 'busy' | 'done'> {
    const { store, logger, signer } = this.options;
    // Without the lease first: an up-to-date tenant (most, on a rescan) costs two reads.
    const seen = await readVerifiedPrefix(store, signer, tenantId);
    if (this.stuck(seen) || !(await store.checkpointToVerify(tenantId, seen.size, seen.size + this.stepLeaves))) return 'done';
    if (!(await store.acquireLease(tenantId, this.holder, this.now(), this.leaseTtlMs, 'verify'))) return 'busy';
    try {
      const prefix = await readVerifiedPrefix(store, signer, tenantId);
      const target = this.stuck(prefix) ? null : await store.checkpointToVerify(tenantId, prefix.size, prefix.size + this.stepLeaves);
      if (!target) return 'done';
      if (!signer.authentic(target)) {
        logger.error({ tenant_id: tenantId, tree_size: target.tree_size }, 'a stored checkpoint is not signed by this service; not verifying past it');
        await store.recordVerifyMismatch(tenantId, target.tree_size);
        return 'done';
      }
      const pace = this.pacer(tenantId);
      const frontier = await extendFrontier(store, tenantId, prefix, target.tree_size, { batch: BATCH, between: pace.between, onLeaves: pace.onLeaves });
      await pace.rest();
      if (frontier && hashesEqual(combineCover(frontier), fromHex(target.root_hash) as Hash)) {
        await recordVerifiedPrefix(store, signer, tenantId, target.tree_size, target.root_hash, frontier);
        return 'more';
      }
      logger.error({ tenant_id: tenantId, from: prefix.size, tree_size: target.tree_size }, 'the ledger entries do not hash to a signed checkpoint: the log was changed');
      await store.recordVerifyMismatch(tenantId, target.tree_size);
      return 'done';
    } finally {
      await store.releaseLease(tenantId, this.holder, 'verify').catch(() => undefined);
    }
  }

  /** A log found changed waits for a request (which locates the leaf) or the offline audit. */
  private stuck(prefix: VerifiedPrefix): boolean {
    return prefix.mismatchAt !== null && prefix.mismatchAt > prefix.size;
  }

  /**
   * Paces a step: `between` runs before each batch (stops if asked, renews the lease, or gives
   * up the step if another holder took it) and `rest` after the step; both first sleep long
   * enough that the last batch's work stays within the duty cycle and the rate.
   */
  private pacer(tenantId: string) {
    let started: number | null = null;
    let leaves = 0;
    // The step took the lease just before.
    let renewed = performance.now();
    const rest = async () => {
      if (started === null) return;
      const busy = performance.now() - started;
      started = null;
      const pause = Math.max((busy * (1 - this.duty)) / this.duty, (leaves * 1000) / this.options.leavesPerSecond - busy);
      leaves = 0;
      if (pause > 0) await sleep(pause);
    };
    const between = async () => {
      await rest();
      if (this.stopped) throw new Error('verifier stopped');
      if (performance.now() - renewed > this.leaseTtlMs / 3) {
        if (!(await this.options.store.acquireLease(tenantId, this.holder, this.now(), this.leaseTtlMs, 'verify'))) throw new Error('verification lease lost');
        renewed = performance.now();
      }
      started = performance.now();
    };
    const onLeaves = (n: number) => {
      leaves += n;
      this.options.onLeaves?.(n);
    };
    return { between, rest, onLeaves };
  }
}
