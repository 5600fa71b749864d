import { appendLeaves, EMPTY_ROOT, fromHex, leafHash, toHex, type Hash } from '../../domain/merkleTree.js';
import { hashLedgerEntry, type LedgerLogStore } from '../../store/index.js';
import type { CheckpointSigner } from './checkpointSigner.js';

// A tenant's verified prefix (docs/ledger.md, "What verified means"): leaves 0..size-1
// recomputed from the stored entries, hashed to the signed root of the checkpoint of that
// size, with the tree's frontier there. The request path and the background verifier both
// extend it the same way: from the recorded frontier, by leaves recomputed from their entries
// (never from the leaf hashes the log keeps for its proofs). The record is signed with the
// checkpoint key (which never enters the database): whoever can write the database can delete
// it (verification starts over) but not raise it to vouch for entries nobody recomputed.

export interface VerifiedPrefix {
  size: number;
  root: Hash;
  frontier: Hash[];
  /** A checkpoint beyond `size` the background verifier found not to match, or null. */
  mismatchAt: number | null;
}

/** What the record's signature covers. */
const prefixNote = (tenantId: string, size: number, rootHex: string, frontier: readonly string[]) =>
  `renewal-defense-verified-prefix/v1\n${tenantId}\n${size}\n${rootHex}\n${frontier.join(',')}\n`;

/** The tenant's recorded prefix; the empty tree when none is recorded or the record is not well-formed or not signed by us. */
export async function readVerifiedPrefix(store: LedgerLogStore, signer: CheckpointSigner, tenantId: string): Promise<VerifiedPrefix> {
  const doc = await store.verifiedPrefix(tenantId);
  const mismatchAt = typeof doc?.mismatch_tree_size === 'number' ? doc.mismatch_tree_size : null;
  const empty: VerifiedPrefix = { size: 0, root: EMPTY_ROOT, frontier: [], mismatchAt };
  if (!doc || !Number.isSafeInteger(doc.tree_size) || doc.tree_size <= 0 || !Array.isArray(doc.frontier) || typeof doc.root_hash !== 'string') return empty;
  if (typeof doc.signature !== 'string' || typeof doc.key_id !== 'string' || doc.frontier.some((h) => typeof h !== 'string')) return empty;
  if (!signer.verify(prefixNote(tenantId, doc.tree_size, doc.root_hash, doc.frontier), doc.signature, doc.key_id)) return empty;
  const root = fromHex(doc.root_hash);
  const frontier = doc.frontier.map((h) => (typeof h === 'string' ? fromHex(h) : null));
  if (!root || root.length !== 32 || frontier.some((h) => !h || h.length !== 32)) return empty;
  return { size: doc.tree_size, root, frontier: frontier as Hash[], mismatchAt };
}

/** Records (signed) that the leaves up to the checkpoint of `size` and `rootHex` were recomputed and matched; only ever raised. */
export async function recordVerifiedPrefix(store: LedgerLogStore, signer: CheckpointSigner, tenantId: string, size: number, rootHex: string, frontier: readonly Hash[]): Promise<void> {
  const hex = frontier.map(toHex);
  const signature = signer.sign(prefixNote(tenantId, size, rootHex, hex));
  await store.recordVerifiedPrefix(tenantId, { tree_size: size, root_hash: rootHex, frontier: hex, signature, key_id: signer.keyId });
}

export interface ExtendOptions {
  /** Leaves read at once. */
  batch: number;
  /** Runs before each batch: yields, paces, renews a lease, or throws to stop. */
  between: () => Promise<void>;
  /** Told how many leaves each batch recomputed. */
  onLeaves?: (n: number) => void;
}

/** The frontier at `size`: the prefix's extended by leaves prefix.size..size-1 recomputed from their entries; null where one is missing. */
export async function extendFrontier(store: LedgerLogStore, tenantId: string, prefix: Pick<VerifiedPrefix, 'size' | 'frontier'>, size: number, options: ExtendOptions): Promise<Hash[] | null> {
  let state = { size: prefix.size, frontier: prefix.frontier };
  for (let lo = prefix.size; lo < size; lo += options.batch) {
    await options.between();
    const indexes = Array.from({ length: Math.min(options.batch, size - lo) }, (_, i) => lo + i);
    const leaves = await store.readLeaves(tenantId, indexes);
    if (leaves.some((l) => l === null)) return null;
    const entries = await store.readEntries(tenantId, leaves.map((l) => l?.entry_key ?? ''));
    const hashes = entries.map((e, i) => (e?.ok && e.record.entry_id === leaves[i]?.entry_id ? leafHash(fromHex(hashLedgerEntry(e.record)) as Hash) : null));
    options.onLeaves?.(indexes.length);
    if (hashes.some((h) => h === null)) return null;
    const next = appendLeaves(state.size, state.frontier, hashes as Hash[]);
    state = { size: next.size, frontier: next.frontier };
  }
  return state.frontier;
}
