import { combineCover, fromHex, rangeCover, type Hash, type LeafRange } from '../../domain/merkleTree.js';
import type { LedgerLogStore } from '../../store/index.js';

/**
 * The hashes of leaf ranges (as a proof lists them), from the stored perfect subtrees that
 * cover them: one batch of point reads for all of them (most from full tiles). Null when a node is missing.
 */
export async function rangeHashes(store: LedgerLogStore, tenantId: string, ranges: readonly LeafRange[]): Promise<Hash[] | null> {
  const covers = ranges.map((r) => rangeCover(r));
  // Every range lies inside the tree the proof is of, so the log has reached the largest end.
  const found = await store.readNodes(tenantId, covers.flat(), Math.max(0, ...ranges.map((r) => r.hi)));
  const out: Hash[] = [];
  for (const cover of covers) {
    const hashes: Hash[] = [];
    for (const { level, index } of cover) {
      const hex = found.get(`${level}/${index}`);
      const hash = hex === undefined ? null : fromHex(hex);
      if (!hash || hash.length !== 32) return null;
      hashes.push(hash);
    }
    out.push(combineCover(hashes));
  }
  return out;
}
