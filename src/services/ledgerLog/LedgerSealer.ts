import pLimit from 'p-limit';
import { randomUUID } from 'node:crypto';
import type { LedgerEntryRecord } from '../../domain/ledger.js';
import { formatCheckpointNote } from '../../domain/ledgerCheckpoint.js';
import {
  appendLeaves,
  combineCover,
  consistencyProofRanges,
  fromHex,
  frontier,
  leafHash,
  toHex,
  verifyConsistency,
  type Hash,
} from '../../domain/merkleTree.js';
import { ledgerEntryKey, type LedgerLogStore, type NewLeaf } from '../../store/index.js';
import type { CheckpointSigner } from './checkpointSigner.js';
import { rangeHashes } from './nodeReads.js';
import { repeat, type Repeating } from '../../runtime/repeat.js';

// The sealer: appends newly written ledger entries to their tenant's Merkle log and signs a
// checkpoint of the grown tree. It runs on a timer, off the request path; the ledger tells it
// of each entry it appends (PlanLedger's onAppended), so finding new entries costs no read.
// Protocol (docs/store.md, "Sealing"), per tenant, under a short lease:
//   1. read the log's state: latest checkpoint (probe by seq), log size (probe leaves from
//      the checkpoint's size), the frontier hashes at that size;
//   2. complete what a sealer that died left: nodes and entry lookups of leaves past the
//      checkpoint (idempotent inserts);
//   3. drop entries already sealed (lookup by entry id), insert the rest as leaves at the
//      next positions (ordered; the unique keys refuse a taken position or a sealed entry);
//   4. insert the lookups and the completed tree nodes, then sign and insert checkpoint seq+1.
// Exactly once, without transactions: a position holds one leaf and an entry one leaf (unique
// indexes), so racing or restarted sealers can only lose an insert, never duplicate or skip.
// Entries the notifications missed (written by a process that died, or by another instance)
// are found by reconcile(): per tenant, when the ledger holds more entries than the log.

export interface LedgerSealerOptions {
  store: LedgerLogStore;
  signer: CheckpointSigner;
  logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  intervalMs: number;
  now?: () => Date;
  /** Entries sealed per tenant per round at most (the next round follows at once). */
  batchLimit?: number;
  /** How long a lease lasts when its holder dies. */
  leaseTtlMs?: number;
  /** Also compare entry counts with log sizes this often (indexed stores, several instances); 0: only at start. */
  reconcileIntervalMs?: number;
  /** Told of each checkpoint this sealer signs (the background verifier follows it). */
  onSigned?: (tenantId: string, treeSize: number) => void;
}

/** How soon a failed start-up reconciliation is tried again. */
const RECONCILE_RETRY_MS = 60_000;

interface PendingEntry {
  key: string;
  entry_id: string;
  hash: string;
  timestamp: number;
}

/** What a sealer knows of a tenant's log after a round; trusted only after checking it is still the head. */
interface LogState {
  size: number;
  frontier: Hash[];
  checkpointSeq: number;
  checkpointSize: number;
}

/** A checkpoint this process signed: the log must stay consistent with it. */
interface Signed {
  size: number;
  root: Hash;
}

export class LedgerSealer {
  private readonly pending = new Map<string, Map<string, PendingEntry>>();
  private readonly states = new Map<string, LogState>();
  private readonly signed = new Map<string, Signed>();
  /** Tenants whose log this process found inconsistent with a checkpoint it signed. */
  private readonly broken = new Map<string, string>();
  private readonly holder = `sealer-${randomUUID()}`;
  private readonly now: () => Date;
  private readonly batchLimit: number;
  private readonly leaseTtlMs: number;
  private loop: Repeating | null = null;
  private stopped = false;
  private lastReconcile = 0;
  private readonly suspicious = new Set<string>();
  private reconcileIntervalMs: number;

  constructor(private readonly options: LedgerSealerOptions) {
    this.now = options.now ?? (() => new Date());
    this.batchLimit = options.batchLimit ?? 5000;
    // Released after every round, so it only has to outlast one; a dead holder's lease delays the next sealer by this much.
    this.leaseTtlMs = options.leaseTtlMs ?? Math.max(3000, options.intervalMs * 3);
    this.reconcileIntervalMs = options.reconcileIntervalMs ?? 0;
  }

  /** Called for every entry the ledger appends (or finds stored on a retry). */
  notify(entry: LedgerEntryRecord): void {
    let forTenant = this.pending.get(entry.tenant_id);
    if (!forTenant) {
      forTenant = new Map();
      this.pending.set(entry.tenant_id, forTenant);
    }
    const key = entryKeyOf(entry);
    if (!forTenant.has(key)) forTenant.set(key, { key, entry_id: entry.entry_id, hash: entry.hash, timestamp: entry.timestamp.getTime() });
  }

  /** Entries waiting to be sealed (all tenants). */
  pendingCount(): number {
    let n = 0;
    for (const m of this.pending.values()) n += m.size;
    return n;
  }

  /** Why this process distrusts a tenant's log, or null. */
  inconsistency(tenantId: string): string | null {
    return this.broken.get(tenantId) ?? null;
  }

  /** The last checkpoint this process signed for a tenant (the service's own witness). */
  lastSigned(tenantId: string): { size: number; root: string } | null {
    const s = this.signed.get(tenantId);
    return s ? { size: s.size, root: toHex(s.root) } : null;
  }

  /** Finds unsealed entries of every tenant (start-up), then seals on the timer. */
  async start(options: { reconcileIntervalMs?: number } = {}): Promise<void> {
    if (options.reconcileIntervalMs !== undefined) this.reconcileIntervalMs = options.reconcileIntervalMs;
    this.lastReconcile = Date.now();
    try {
      await this.reconcile();
    } catch (e) {
      // A store too slow for the start-up count (a large ledger on the embedded store) must not
      // keep the service from starting: the rounds retry it, at most once a minute.
      this.startReconcileOwed = true;
      this.options.logger.warn({ err: e }, 'finding unsealed ledger entries at start failed; retrying in the background');
    }
    if (this.stopped) return;
    this.loop = repeat(() => this.round(), {
      intervalMs: this.options.intervalMs,
      firstDelayMs: 0,
      // Straight on while a round filled a whole batch and more waits.
      nextDelayMs: () => (this.pendingCount() > 0 && this.hadFullBatch ? 0 : this.options.intervalMs),
      onError: (e) => this.options.logger.warn({ err: e }, 'ledger sealing round failed; will retry'),
    });
  }

  private startReconcileOwed = false;

  private hadFullBatch = false;

  /** Stops the timer after the round in flight; seals what is pending once more. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop?.stop();
    await this.sealAll().catch((e: unknown) => this.options.logger.warn({ err: e }, 'final ledger sealing round failed'));
  }

  /** One round: seals every tenant with pending entries; now and then compares counts. */
  async round(): Promise<void> {
    const every = this.reconcileIntervalMs;
    if (this.startReconcileOwed && Date.now() - this.lastReconcile >= RECONCILE_RETRY_MS) {
      this.lastReconcile = Date.now();
      await this.reconcile();
      this.startReconcileOwed = false;
    } else if (every > 0 && Date.now() - this.lastReconcile >= every) {
      this.lastReconcile = Date.now();
      await this.reconcile([...new Set([...this.states.keys(), ...this.pending.keys()])]);
    }
    await this.sealAll();
  }

  /**
   * Seals what is pending for every tenant now (tests and shutdown call it directly). Calls take
   * turns: the lease is per process, so two rounds of one process would not keep each other out,
   * and a round working from a state the other just moved past would distrust the log.
   */
  sealAll(): Promise<{ sealed: number }> {
    return this.oneRoundAtATime(() => this.sealEachTenant());
  }

  private readonly oneRoundAtATime = pLimit(1);

  private async sealEachTenant(): Promise<{ sealed: number }> {
    let sealed = 0;
    this.hadFullBatch = false;
    for (const tenantId of [...this.pending.keys()]) {
      try {
        sealed += await this.sealTenant(tenantId);
      } catch (e) {
        this.states.delete(tenantId);
        this.options.logger.warn({ err: e, tenant_id: tenantId }, 'sealing a tenant failed; will retry');
      }
    }
    return { sealed };
  }

  /**
   * Compares each tenant's entry count with its log size and queues every entry that is in
   * the ledger but not in the log (two queries per such tenant: its entries, its leaves).
   * A tenant whose count exceeds its log is rescanned only on a second look (or at start),
   * since another instance may just be sealing the difference.
   */
  async reconcile(tenantIds?: readonly string[]): Promise<number> {
    const { store } = this.options;
    const counts = tenantIds === undefined ? await store.entryCounts() : await this.countsOf(tenantIds);
    const atStart = tenantIds === undefined;
    let queued = 0;
    for (const [tenantId, count] of counts) {
      const size = await store.logSize(tenantId, this.states.get(tenantId)?.size ?? 0);
      const waiting = this.pending.get(tenantId)?.size ?? 0;
      if (count <= size + waiting) {
        this.suspicious.delete(tenantId);
        continue;
      }
      if (!atStart && !this.suspicious.has(tenantId)) {
        this.suspicious.add(tenantId);
        continue;
      }
      this.suspicious.delete(tenantId);
      const sealed = new Set<string>();
      for await (const leaf of store.streamLeaves(tenantId)) sealed.add(leaf.entry_id);
      for await (const { entry } of store.streamEntries(tenantId)) {
        if (!entry.ok || sealed.has(entry.record.entry_id)) continue;
        const before = this.pendingCount();
        this.notify(entry.record);
        queued += this.pendingCount() - before;
      }
    }
    if (queued > 0) this.options.logger.info({ queued }, 'ledger entries found unsealed; sealing them');
    return queued;
  }

  private async countsOf(tenantIds: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const t of tenantIds) for (const [k, v] of await this.options.store.entryCounts(t)) out.set(k, v);
    return out;
  }

  /**
   * The log's state. What this process left after its last round is trusted after two reads
   * that hit (its last leaf, its last checkpoint): a log cut back below it shows there, and a
   * sealer that appended meanwhile makes this one's next insert collide (then it reloads).
   * Otherwise it is read from the store: the latest checkpoint (probe by seq), the log size
   * (probe leaves from there), the frontier at the checkpoint's size.
   */
  private async loadState(tenantId: string): Promise<LogState> {
    const { store } = this.options;
    const known = this.states.get(tenantId);
    if (known && known.size > 0) {
      const [[last], checkpoint] = await Promise.all([store.readLeaves(tenantId, [known.size - 1]), known.checkpointSeq > 0 ? store.checkpointBySeq(tenantId, known.checkpointSeq) : Promise.resolve(null)]);
      if (last && (known.checkpointSeq === 0 || checkpoint?.tree_size === known.checkpointSize)) return known;
    }
    const checkpoint = await store.latestCheckpoint(tenantId, known?.checkpointSeq ?? 0);
    // A sealer that died between the checkpoint's two inserts left it without its size record.
    if (checkpoint) await store.ensureCheckpointSize(checkpoint);
    const checkpointSeq = checkpoint?.seq ?? 0;
    const checkpointSize = checkpoint?.tree_size ?? 0;
    const size = await store.logSize(tenantId, Math.max(checkpointSize, known?.size ?? 0));
    // Rebuild the frontier at the checkpoint's size from stored nodes, then replay the leaves
    // sealed after it (a sealer that died before its checkpoint), completing their nodes.
    const base = Math.min(checkpointSize, size);
    let state = { size: base, frontier: await this.frontierAt(tenantId, base) };
    for (let lo = base; lo < size; lo += 1000) {
      const indexes = Array.from({ length: Math.min(1000, size - lo) }, (_, i) => lo + i);
      const leaves = await store.readLeaves(tenantId, indexes);
      const hashes = leaves.map((leaf, i) => {
        const h = leaf ? fromHex(leaf.leaf_hash) : null;
        if (!leaf || !h || h.length !== 32) throw new Error(`leaf ${indexes[i] ?? lo} of tenant ${tenantId} is missing or unreadable`);
        return h;
      });
      const next = appendLeaves(state.size, state.frontier, hashes);
      await store.insertEntryLeaves(tenantId, leaves.map((leaf) => ({ entry_id: (leaf as NonNullable<typeof leaf>).entry_id, index: (leaf as NonNullable<typeof leaf>).index, entry_key: (leaf as NonNullable<typeof leaf>).entry_key })));
      await store.insertNodes(tenantId, next.completed.map((c) => ({ id: c.id, hash: toHex(c.hash) })));
      state = next;
    }
    return { size, frontier: state.frontier, checkpointSeq, checkpointSize };
  }

  private async frontierAt(tenantId: string, size: number): Promise<Hash[]> {
    const ids = frontier(size);
    const found = await this.options.store.readNodes(tenantId, ids);
    return ids.map(({ level, index }) => {
      const hex = found.get(`${level}/${index}`);
      const hash = hex ? fromHex(hex) : null;
      if (!hash || hash.length !== 32) throw new Error(`tree node ${level}/${index} of tenant ${tenantId} is missing`);
      return hash;
    });
  }

  /** Seals a tenant's pending entries; returns how many it appended. */
  private async sealTenant(tenantId: string): Promise<number> {
    const { store, logger } = this.options;
    const pending = this.pending.get(tenantId);
    if (!pending || pending.size === 0) {
      this.pending.delete(tenantId);
      return 0;
    }
    if (this.broken.has(tenantId)) return 0;
    if (!(await store.acquireLease(tenantId, this.holder, this.now(), this.leaseTtlMs))) return 0;
    try {
      let state = await this.loadState(tenantId);
      const previous = this.signed.get(tenantId);
      // A state this process carried on from its own last round extends what it signed by construction.
      const continued = state === this.states.get(tenantId) && state.checkpointSize === previous?.size;
      if (previous && !continued && !(await this.extends(tenantId, previous, state))) {
        const reason = `the log (size ${state.size}) is not an extension of checkpoint ${previous.size} this service signed`;
        this.broken.set(tenantId, reason);
        logger.error({ tenant_id: tenantId }, `${reason}; refusing to seal or sign for this tenant`);
        return 0;
      }
      // Oldest first; ties by key, so the order does not depend on arrival.
      const batch = [...pending.values()].sort((a, b) => a.timestamp - b.timestamp || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).slice(0, this.batchLimit);
      this.hadFullBatch = this.hadFullBatch || batch.length === this.batchLimit;
      // No read per entry to see whether it is sealed already: the leaf insert says so (the
      // unique {tenant_id, entry_id}), and almost none is (a retried append, a racing sealer).
      let todo = batch;
      let appended = 0;
      while (todo.length > 0) {
        const leaves: NewLeaf[] = todo.map((p) => ({ entry_id: p.entry_id, entry_key: p.key, leaf_hash: toHex(leafHash(fromHex(p.hash) as Hash)) }));
        const { inserted, conflict } = await store.insertLeaves(tenantId, state.size, leaves);
        const done = todo.slice(0, inserted);
        const next = appendLeaves(state.size, state.frontier, leaves.slice(0, inserted).map((l) => fromHex(l.leaf_hash) as Hash));
        await store.insertEntryLeaves(tenantId, done.map((p, i) => ({ entry_id: p.entry_id, index: state.size + i, entry_key: p.key })));
        await store.insertNodes(tenantId, next.completed.map((c) => ({ id: c.id, hash: toHex(c.hash) })));
        state = { ...state, size: next.size, frontier: next.frontier };
        for (const p of done) pending.delete(p.key);
        appended += inserted;
        if (conflict === 'index') {
          // Another sealer appended here: our view is stale. Sign nothing; the next round reloads.
          this.states.delete(tenantId);
          return appended;
        }
        if (conflict === 'entry') {
          // Sealed already (by a sealer that died before recording where): drop it, go on.
          const skipped = todo[inserted] as PendingEntry;
          pending.delete(skipped.key);
          todo = todo.slice(inserted + 1);
        } else todo = [];
      }
      if (state.size > state.checkpointSize) state = await this.signCheckpoint(tenantId, state);
      this.states.set(tenantId, state);
      if (pending.size === 0) this.pending.delete(tenantId);
      return appended;
    } finally {
      await store.releaseLease(tenantId, this.holder).catch(() => undefined);
    }
  }

  /** Whether the log now extends what this process last signed (a consistency proof from stored nodes). */
  private async extends(tenantId: string, previous: Signed, state: LogState): Promise<boolean> {
    if (state.size < previous.size) return false;
    const root = combineCover(state.frontier);
    if (state.size === previous.size) return verifyConsistency(previous.size, state.size, previous.root, root, []);
    const proof = await rangeHashes(this.options.store, tenantId, consistencyProofRanges(previous.size, state.size));
    return proof !== null && verifyConsistency(previous.size, state.size, previous.root, root, proof);
  }

  private async signCheckpoint(tenantId: string, state: LogState): Promise<LogState> {
    const { store, signer } = this.options;
    const root = combineCover(state.frontier);
    let seq = state.checkpointSeq + 1;
    for (;;) {
      const timestamp = this.now();
      const note = formatCheckpointNote({ tenantId, treeSize: state.size, rootHash: toHex(root), timestamp });
      const ok = await store.insertCheckpoint({
        tenant_id: tenantId,
        seq,
        tree_size: state.size,
        root_hash: toHex(root),
        timestamp,
        key_id: signer.keyId,
        signature: signer.sign(note),
        note,
      });
      if (ok) {
        this.signed.set(tenantId, { size: state.size, root });
        this.options.onSigned?.(tenantId, state.size);
        return { ...state, checkpointSeq: seq, checkpointSize: state.size };
      }
      // Seq taken by another sealer: sign a later seq only if ours is still the larger tree.
      const latest = await store.latestCheckpoint(tenantId, seq);
      if (!latest || latest.tree_size >= state.size) {
        this.states.delete(tenantId);
        return { ...state, checkpointSeq: latest?.seq ?? seq, checkpointSize: latest?.tree_size ?? state.size };
      }
      seq = latest.seq + 1;
    }
  }
}

/** An entry's _id in plan_ledger: its position key (PlanLedger stores every entry under it). */
const entryKeyOf = (e: LedgerEntryRecord): string => ledgerEntryKey(e.tenant_id, e.plan_id, e.seq);
