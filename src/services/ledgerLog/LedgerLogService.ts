import type { Principal } from '../../auth/principal.js';
import { AppError } from '../../domain/errors.js';
import type { SignedCheckpoint } from '../../domain/ledgerCheckpoint.js';
import { EXPORT_FORMAT, tagDates } from '../../domain/ledgerExportFormat.js';
import {
  appendLeaves,
  combineCover,
  consistencyProofRanges,
  fromHex,
  hashesEqual,
  inclusionProofRanges,
  leafHash,
  splitPoint,
  toHex,
  verifyConsistency,
  verifyInclusion,
  type Hash,
} from '../../domain/merkleTree.js';
import { hashLedgerEntry, ledgerEntryKey, type CheckpointDoc, type LedgerLogStore, type LedgerVerification } from '../../store/index.js';
import type { PlanQueryService } from '../plans/PlanQueryService.js';
import type { TenantWorkLimiter } from '../tenantWorkLimiter.js';
import type { CheckpointSigner } from './checkpointSigner.js';
import type { LedgerSealer } from './LedgerSealer.js';
import { rangeHashes } from './nodeReads.js';
import { extendFrontier, readVerifiedPrefix, recordVerifiedPrefix } from './verifiedPrefix.js';

// The verifiable ledger's read side (docs/ledger.md): checkpoints, proofs, keys,
// and verification that recomputes every leaf from the entries themselves (never from the
// hashes the log keeps for its proofs). Tenant-scoped: every key includes the caller's tenant.

// The answers' shapes are the schema's (LedgerInclusionProof, LedgerCheckpointVerification, ...):
// the resolvers return them as they are, so the generated types check them there.

export type PlanLedgerVerification = LedgerVerification & { checkpoint_tree_size: number | null };

/** Positions past the last entry found where verifyPlan still looks for sealed entries of the plan (deleted ones). */
const PLAN_WINDOW = 16;
/** Lookups verifyPlan reads at once. */
const PLAN_BATCH = 16;
const MAX_SIZE = 2 ** 40;
/** Leaves read at once while extending. */
const EXTEND_BATCH = 256;
/** Leaves beyond the verified prefix a request recomputes at most, by default (a fraction of a second). */
export const DEFAULT_REQUEST_LEAVES = 1024;
/**
 * Entries a long pass hashes between two turns of the event loop: a cursor hands out a whole
 * batch without one, and other tenants' requests should not wait for all of it.
 */
const YIELD_EVERY = 100;

/** Lets pending I/O callbacks (other requests) run; stops here when every caller left. */
async function yieldToOthers(signal: AbortSignal | undefined): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  signal?.throwIfAborted();
}

export interface LedgerLogServiceDeps {
  store: LedgerLogStore;
  signer: CheckpointSigner;
  /** The sealer of this process, when it runs one: its memory of what it signed is a witness too. */
  sealer?: LedgerSealer | null;
  /** The plan chain's verifier (verifyPlan only; an export needs none). */
  queries?: PlanQueryService;
  /** Bounds verification work per tenant and runs identical concurrent verifications once. */
  limiter?: TenantWorkLimiter;
  /** Leaves a request recomputes beyond the verified prefix at most (default 1024); further is VERIFICATION_PENDING. */
  requestLeaves?: number;
  /** The background verifier's pace, for the retry hint of VERIFICATION_PENDING. */
  backgroundLeavesPerSecond?: number;
  /** Told of every leaf a request recomputes from its entry (a metric). */
  onLeavesRecomputed?: (n: number) => void;
}

export class LedgerLogService {
  constructor(private readonly deps: LedgerLogServiceDeps) {}

  signingKeys() {
    return this.deps.signer.publicKeys();
  }

  async checkpoint(principal: Principal, treeSize?: number | null): Promise<SignedCheckpoint | null> {
    const doc = await this.findCheckpoint(principal.tenantId, treeSize);
    return doc ? toView(doc) : null;
  }

  async inclusionProof(principal: Principal, entryId: string, treeSize?: number | null) {
    const tenantId = principal.tenantId;
    if (entryId.length === 0 || entryId.length > 256) throw new AppError('BAD_USER_INPUT', 'entryId must be 1 to 256 characters');
    // Two round trips: the checkpoint and where the entry is sealed; then the entry and the
    // proof's nodes with the leaf's own stored hash (mostly one tile). When the entry hashes to
    // that leaf, it is the leaf; otherwise the leaf document says which entry it seals.
    const [checkpoint, [ref]] = await Promise.all([this.findCheckpoint(tenantId, treeSize, true), this.deps.store.leafRefsOf(tenantId, [entryId])]);
    if (!checkpoint || !ref || ref.index >= checkpoint.tree_size) return null;
    const index = ref.index;
    const [entries, hashes] = await Promise.all([
      ref.entryKey ? this.deps.store.readEntries(tenantId, [ref.entryKey]) : Promise.resolve([null]),
      rangeHashes(this.deps.store, tenantId, [...inclusionProofRanges(index, checkpoint.tree_size), { lo: index, hi: index + 1 }]),
    ]);
    const stored = hashes?.pop();
    const [entry] = entries;
    const direct = entry?.ok && entry.record.entry_id === entryId ? leafHash(fromHex(hashLedgerEntry(entry.record)) as Hash) : null;
    const leaf = direct && stored && hashesEqual(direct, stored) ? { entryId, hash: direct } : await this.recomputedLeaf(tenantId, index, ref.entryKey);
    if (!leaf || leaf.entryId !== entryId || !hashes) throw new AppError('INTERNAL_SERVER_ERROR', `the ledger log of this tenant is damaged at leaf ${index}`);
    return { entryId, leafIndex: index, treeSize: checkpoint.tree_size, leafHash: toHex(leaf.hash), auditPath: hashes.map(toHex) };
  }

  async consistencyProof(principal: Principal, fromSize: number, toSize?: number | null): Promise<{ fromSize: number; toSize: number; path: string[] }> {
    const tenantId = principal.tenantId;
    const latest = await this.deps.store.latestCheckpoint(tenantId);
    const to = toSize ?? latest?.tree_size ?? 0;
    if (!isSize(fromSize) || !isSize(to) || fromSize > to) throw new AppError('BAD_USER_INPUT', 'need 0 <= fromSize <= toSize');
    if (to > (latest?.tree_size ?? 0)) throw new AppError('BAD_USER_INPUT', `toSize ${to} is beyond the latest checkpoint (${latest?.tree_size ?? 0})`);
    const path = await rangeHashes(this.deps.store, tenantId, consistencyProofRanges(fromSize, to));
    if (!path) throw new AppError('INTERNAL_SERVER_ERROR', 'the ledger log of this tenant is missing tree nodes');
    return { fromSize, toSize: to, path: path.map(toHex) };
  }

  /**
   * Whether the entries still hash to the signed root of a checkpoint (the latest by default).
   * Also invalid: a checkpoint whose signature or note does not hold, and a log smaller than a
   * checkpoint this process signed (rolled back). A size no checkpoint has is NOT_FOUND.
   *
   * The cost of a request is bounded: the leaves recomputed and matched once are recorded per
   * tenant (a verified prefix, raised mostly by the background LedgerVerifier); a request
   * extends it by at most `requestLeaves` new leaves, proves an earlier checkpoint a prefix of
   * it (a consistency proof), and further beyond answers VERIFICATION_PENDING. Only a known
   * mismatch recomputes the whole log. Re-checking old entries against later edits in the
   * database is the offline audit's job (ledger:export + ledger:verify), not a request's.
   */
  async verifyCheckpoint(principal: Principal, treeSize?: number | null, signal?: AbortSignal) {
    const tenantId = principal.tenantId;
    // What this process signed is read first: a checkpoint it signs meanwhile is then in the store too.
    const witnessed = this.deps.sealer?.lastSigned(tenantId) ?? null;
    const checkpoint = await this.findCheckpoint(tenantId, treeSize, true);
    if (!checkpoint) {
      if (witnessed) return { treeSize: 0, valid: false, entriesChecked: 0, firstBadLeafIndex: 0 };
      return { treeSize: 0, valid: true, entriesChecked: 0, firstBadLeafIndex: null };
    }
    const size = checkpoint.tree_size;
    if (!this.deps.signer.authentic(checkpoint)) return { treeSize: size, valid: false, entriesChecked: 0, firstBadLeafIndex: null };
    const work = (s: AbortSignal | undefined) => this.firstBadLeaf(tenantId, checkpoint, s);
    let firstBad = this.deps.limiter ? await this.deps.limiter.run(tenantId, `verifyCheckpoint/${size}/${checkpoint.root_hash}`, work, signal) : await work(signal);
    // The newest checkpoint smaller than one this process signed: history was cut back.
    if (firstBad === null && treeSize == null && witnessed && witnessed.size > size) firstBad = size;
    if (firstBad === null && this.deps.sealer?.inconsistency(tenantId)) firstBad = Math.min(size, witnessed?.size ?? size);
    return { treeSize: size, valid: firstBad === null, entriesChecked: size, firstBadLeafIndex: firstBad };
  }

  /**
   * The first leaf below the checkpoint's size whose entry does not hash to the signed tree, or
   * null. Checked against the tenant's verified prefix: at or below it, by the recorded root or
   * a consistency proof; a few leaves beyond it (at most `requestLeaves`), by recomputing them;
   * further beyond, VERIFICATION_PENDING (the background verifier gets there). Only a mismatch
   * (a log changed in the database) recomputes the whole log, to name the first bad leaf.
   */
  private async firstBadLeaf(tenantId: string, checkpoint: CheckpointDoc, signal: AbortSignal | undefined): Promise<number | null> {
    const size = checkpoint.tree_size;
    const signedRoot = fromHex(checkpoint.root_hash) as Hash;
    const prefix = await readVerifiedPrefix(this.deps.store, this.deps.signer, tenantId);
    const changed = prefix.mismatchAt !== null && prefix.mismatchAt > prefix.size && prefix.mismatchAt <= size;
    if (prefix.size >= size) {
      if (prefix.size === size && hashesEqual(prefix.root, signedRoot)) return null;
      if (prefix.size > size) {
        const proof = await rangeHashes(this.deps.store, tenantId, consistencyProofRanges(size, prefix.size));
        if (proof && verifyConsistency(size, prefix.size, signedRoot, prefix.root, proof)) return null;
      }
    } else if (!changed) {
      const gap = size - prefix.size;
      if (gap > this.requestLeaves) {
        throw new AppError('VERIFICATION_PENDING', `checkpoint ${size} is ${gap} leaves beyond what is verified (${prefix.size}); the background verifier is on its way, retry later`, {
          treeSize: size,
          verifiedTreeSize: prefix.size,
          retryAfterSeconds: Math.max(1, Math.ceil(gap / (this.deps.backgroundLeavesPerSecond ?? 1000))),
        });
      }
      const extended = await extendFrontier(this.deps.store, tenantId, prefix, size, {
        batch: EXTEND_BATCH,
        between: () => yieldToOthers(signal),
        onLeaves: (n) => this.deps.onLeavesRecomputed?.(n),
      });
      if (extended && hashesEqual(combineCover(extended), signedRoot)) {
        await recordVerifiedPrefix(this.deps.store, this.deps.signer, tenantId, size, checkpoint.root_hash, extended);
        return null;
      }
    }
    const leaves = await this.recomputedLeaves(tenantId, size, signal);
    const firstMissing = leaves.findIndex((l) => l === null);
    if (firstMissing >= 0) return firstMissing;
    const { frontier } = appendLeaves(0, [], leaves as Hash[]);
    if (hashesEqual(combineCover(frontier), signedRoot)) {
      await recordVerifiedPrefix(this.deps.store, this.deps.signer, tenantId, size, checkpoint.root_hash, frontier);
      return null;
    }
    return this.locateBadLeaf(tenantId, leaves as Hash[], signedRoot);
  }

  private get requestLeaves(): number {
    return this.deps.requestLeaves ?? DEFAULT_REQUEST_LEAVES;
  }

  /**
   * The plan's chain (verifyPlanLedger), and then each of its entries the latest checkpoint
   * covers: recomputed from the entry and proven against the signed root. Fails at the first
   * such entry that is missing or changed, even when its chain was rewritten to match.
   */
  async verifyPlan(principal: Principal, planId: string, signal?: AbortSignal): Promise<PlanLedgerVerification> {
    const work = () => this.verifyPlanNow(principal, planId);
    return this.deps.limiter ? this.deps.limiter.run(principal.tenantId, `verifyPlan/${planId}`, work, signal) : work();
  }

  private async verifyPlanNow(principal: Principal, planId: string): Promise<PlanLedgerVerification> {
    const tenantId = principal.tenantId;
    if (!this.deps.queries) throw new Error('LedgerLogService.verifyPlan needs the plan queries');
    const chain = await this.deps.queries.verifyLedger(principal, planId);
    const witnessed = this.deps.sealer?.lastSigned(tenantId);
    const checkpoint = await this.deps.store.latestCheckpoint(tenantId);
    if (!checkpoint) return { ...chain, checkpoint_tree_size: null };
    const size = checkpoint.tree_size;
    // A broken chain keeps the seq where the chain breaks; a chain that holds (rewritten to
    // match) is broken at the first sealed entry the checkpoint does not vouch for.
    const fail = (seq: number | null): PlanLedgerVerification => ({
      ...chain,
      valid: false,
      broken_at_seq: chain.broken_at_seq ?? seq,
      checkpoint_tree_size: size,
    });
    if (!this.deps.signer.authentic(checkpoint)) return fail(null);
    if ((witnessed && witnessed.size > size) || this.deps.sealer?.inconsistency(tenantId)) return fail(null);
    const root = fromHex(checkpoint.root_hash) as Hash;
    // Three batches of point reads: where the plan's entries are sealed (seq 1 … past the
    // chain's end), then those entries and every node their proofs need, all at once.
    const sealed: { seq: number; key: string; index: number }[] = [];
    for (let from = 1, lastFound = 0; from <= Math.max(chain.entries, lastFound) + PLAN_WINDOW; from += PLAN_BATCH) {
      const seqs = Array.from({ length: PLAN_BATCH }, (_, i) => from + i);
      const keys = seqs.map((seq) => ledgerEntryKey(tenantId, planId, seq));
      const indexes = await this.deps.store.leafIndexesOf(tenantId, keys);
      indexes.forEach((index, i) => {
        if (index === null || index === undefined) return;
        lastFound = seqs[i] as number;
        if (index < size) sealed.push({ seq: seqs[i] as number, key: keys[i] as string, index });
      });
    }
    if (sealed.length === 0) return { ...chain, checkpoint_tree_size: size };
    const [entries, paths] = await Promise.all([
      this.deps.store.readEntries(tenantId, sealed.map((s) => s.key)),
      Promise.all(sealed.map((s) => rangeHashes(this.deps.store, tenantId, inclusionProofRanges(s.index, size)))),
    ]);
    for (const [i, s] of sealed.entries()) {
      const entry = entries[i];
      const ok = entry?.ok === true && entry.record.plan_id === planId && entry.record.entry_id === s.key;
      const leaf = ok ? leafHash(fromHex(hashLedgerEntry(entry.record)) as Hash) : null;
      const path = paths[i];
      if (!leaf || !path || !verifyInclusion(s.index, size, leaf, path, root)) return fail(s.seq);
    }
    return { ...chain, checkpoint_tree_size: size };
  }

  /** The log for an offline audit: the tenant's checkpoints, then every leaf's entry in order (see ledgerExport). */
  async *exportLog(tenantId: string, treeSize?: number): AsyncGenerator<Record<string, unknown>> {
    yield { type: 'header', format: EXPORT_FORMAT, tenantId, exportedAt: new Date().toISOString() };
    const checkpoints = await this.deps.store.allCheckpoints(tenantId);
    for (const c of checkpoints) yield { type: 'checkpoint', ...toView(c), timestamp: c.timestamp.toISOString() };
    const size = treeSize ?? checkpoints.at(-1)?.tree_size ?? 0;
    for (let lo = 0; lo < size; lo += 500) {
      const indexes = Array.from({ length: Math.min(500, size - lo) }, (_, i) => lo + i);
      const leaves = await this.deps.store.readLeaves(tenantId, indexes);
      const entries = await this.deps.store.readEntries(tenantId, leaves.map((l) => l?.entry_key ?? ''));
      for (let i = 0; i < indexes.length; i++) {
        const e = entries[i];
        yield { type: 'leaf', index: indexes[i], entryId: leaves[i]?.entry_id ?? null, entry: e?.ok ? tagDates(e.record) : null };
      }
    }
  }

  private async findCheckpoint(tenantId: string, treeSize: number | null | undefined, required = false): Promise<CheckpointDoc | null> {
    if (treeSize === null || treeSize === undefined) return this.deps.store.latestCheckpoint(tenantId);
    if (!isSize(treeSize)) throw new AppError('BAD_USER_INPUT', 'treeSize must be a non-negative integer');
    const doc = await this.deps.store.checkpointBySize(tenantId, treeSize);
    if (!doc && required) throw new AppError('NOT_FOUND', `no checkpoint of size ${treeSize}`);
    return doc;
  }


  /** Leaf `index` recomputed from its entry (null when the leaf or the entry is missing or unreadable). */
  private async recomputedLeaf(tenantId: string, index: number, entryKey: string | null = null): Promise<{ entryId: string; hash: Hash } | null> {
    const [[leaf], early] = await Promise.all([this.deps.store.readLeaves(tenantId, [index]), entryKey ? this.deps.store.readEntries(tenantId, [entryKey]) : Promise.resolve(null)]);
    if (!leaf) return null;
    // The entry read with the lookup's key counts only if it is the one the leaf names.
    const [entry] = early && leaf.entry_key === entryKey ? early : await this.deps.store.readEntries(tenantId, [leaf.entry_key]);
    if (!entry?.ok || entry.record.entry_id !== leaf.entry_id) return null;
    return { entryId: leaf.entry_id, hash: leafHash(fromHex(hashLedgerEntry(entry.record)) as Hash) };
  }

  /** Every leaf below size recomputed from its entry: two streamed queries (the leaves, the entries), side by side. */
  private async recomputedLeaves(tenantId: string, size: number, signal: AbortSignal | undefined): Promise<(Hash | null)[]> {
    const refs: ({ key: string; entryId: string } | null)[] = new Array<null>(size).fill(null);
    const byKey = new Map<string, { entryId: string; hash: Hash }>();
    await Promise.all([
      (async () => {
        let n = 0;
        for await (const leaf of this.deps.store.streamLeaves(tenantId)) {
          if (++n % YIELD_EVERY === 0) await yieldToOthers(signal);
          if (Number.isSafeInteger(leaf.index) && leaf.index >= 0 && leaf.index < size) refs[leaf.index] = { key: leaf.entry_key, entryId: leaf.entry_id };
        }
      })(),
      (async () => {
        let n = 0;
        for await (const { key, entry } of this.deps.store.streamEntries(tenantId)) {
          if (++n % YIELD_EVERY === 0) {
            this.deps.onLeavesRecomputed?.(YIELD_EVERY);
            await yieldToOthers(signal);
          }
          if (entry.ok) byKey.set(key, { entryId: entry.record.entry_id, hash: leafHash(fromHex(hashLedgerEntry(entry.record)) as Hash) });
        }
      })(),
    ]);
    return refs.map((r) => {
      const e = r ? byKey.get(r.key) : undefined;
      return e && r && e.entryId === r.entryId ? e.hash : null;
    });
  }

  /**
   * The first leaf whose recomputed hash is not the signed one: walks down from the signed
   * root, trusting a stored subtree hash only when it and its sibling hash to a trusted parent.
   * Where the stored nodes do not authenticate (tampered too), the start of that range is named.
   */
  private async locateBadLeaf(tenantId: string, leaves: readonly Hash[], signedRoot: Hash): Promise<number> {
    let lo = 0;
    let hi = leaves.length;
    let trusted = signedRoot;
    while (hi - lo > 1) {
      const k = splitPoint(hi - lo);
      const [left, right] = (await rangeHashes(this.deps.store, tenantId, [
        { lo, hi: lo + k },
        { lo: lo + k, hi },
      ])) ?? [null, null];
      if (!left || !right || !hashesEqual(combineCover([left, right]), trusted)) return lo;
      const ownLeft = combineCover(appendLeaves(0, [], leaves.slice(lo, lo + k)).frontier);
      if (!hashesEqual(ownLeft, left)) {
        hi = lo + k;
        trusted = left;
      } else {
        lo = lo + k;
        trusted = right;
      }
    }
    return lo;
  }
}

const isSize = (n: number): boolean => Number.isSafeInteger(n) && n >= 0 && n <= MAX_SIZE;

function toView(c: CheckpointDoc): SignedCheckpoint {
  return { tenantId: c.tenant_id, treeSize: c.tree_size, rootHash: c.root_hash, timestamp: c.timestamp, keyId: c.key_id, signature: c.signature, note: c.note };
}
