// The Merkle tree of RFC 9162 §2.1 (Certificate Transparency v2): hashes, roots, and the
// inclusion and consistency proofs with their verification, over a SHA-256 the caller gives
// (node:crypto's in the service: merkleTree.ts; the plain sha256.ts in the dashboard's witness).
// Pure and free of Node APIs, so the service, the offline verifier and the browser share it.
//
// A perfect subtree (level L, index i) covers leaves [i·2^L, (i+1)·2^L); the node store keys
// its hashes by that pair. Every range the RFC's recursion hashes (MTH of D[lo:hi]) is a run
// of such perfect subtrees (`rangeCover`), so a proof needs O(log n) stored hashes.

export type Hash = Uint8Array;

/** SHA-256 of the concatenated parts. */
export type Sha256 = (...parts: Uint8Array[]) => Uint8Array;

const LEAF_PREFIX = Uint8Array.of(0);
const NODE_PREFIX = Uint8Array.of(1);

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

export const toHex = (hash: Uint8Array): string => Array.from(hash, (b) => HEX[b] as string).join('');

/** Bytes of a lowercase or uppercase hex string of even length; null when it is not hex. */
export function fromHex(hex: string): Uint8Array | null {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export const hashesEqual = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((byte, i) => byte === b[i]);

/** The largest power of two strictly below n (n ≥ 2): where the RFC splits a tree. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

const isPowerOfTwo = (n: number): boolean => {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
};

export interface NodeId {
  level: number;
  index: number;
}

/** A half-open range of leaves [lo, hi). */
export interface LeafRange {
  lo: number;
  hi: number;
}

/**
 * The perfect subtrees, left to right, whose hashes make MTH(D[lo:hi]) for a range the RFC's
 * recursion produces (lo a multiple of the largest power of two ≤ hi − lo): the binary
 * decomposition of its size, largest first.
 */
export function rangeCover({ lo, hi }: LeafRange): NodeId[] {
  const cover: NodeId[] = [];
  let start = lo;
  let remaining = hi - lo;
  while (remaining > 0) {
    let size = 1;
    let level = 0;
    while (size * 2 <= remaining) {
      size *= 2;
      level += 1;
    }
    cover.push({ level, index: start / size });
    start += size;
    remaining -= size;
  }
  return cover;
}

/** The ranges whose hashes form the audit path of leaf m in a tree of n leaves (RFC PATH), leaf end first. */
export function inclusionProofRanges(m: number, n: number): LeafRange[] {
  const ranges: LeafRange[] = [];
  const path = (index: number, lo: number, hi: number): void => {
    if (hi - lo <= 1) return;
    const k = splitPoint(hi - lo);
    if (index < k) {
      path(index, lo, lo + k);
      ranges.push({ lo: lo + k, hi });
    } else {
      path(index - k, lo + k, hi);
      ranges.push({ lo, hi: lo + k });
    }
  };
  path(m, 0, n);
  return ranges;
}

/** The ranges whose hashes form the consistency proof from size m to size n (RFC PROOF), 0 < m < n. */
export function consistencyProofRanges(m: number, n: number): LeafRange[] {
  const ranges: LeafRange[] = [];
  const subproof = (size: number, lo: number, hi: number, complete: boolean): void => {
    if (size === hi - lo) {
      if (!complete) ranges.push({ lo, hi });
      return;
    }
    const k = splitPoint(hi - lo);
    if (size <= k) {
      subproof(size, lo, lo + k, complete);
      ranges.push({ lo: lo + k, hi });
    } else {
      subproof(size - k, lo + k, hi, false);
      ranges.push({ lo, hi: lo + k });
    }
  };
  if (m > 0 && m < n) subproof(m, 0, n, true);
  return ranges;
}

/**
 * The perfect subtrees that are complete at size n: the nodes of the compact range [0, n),
 * one per set bit of n, largest first. Their hashes are the sealer's state: appending a leaf
 * only ever merges the right end.
 */
export const frontier = (n: number): NodeId[] => rangeCover({ lo: 0, hi: n });

/** The hashing half of the tree over a SHA-256: leaf and node hashes, roots, appends, proof checks. */
export function merkleHashing(sha256: Sha256) {
  /** MTH({}) = SHA-256 of nothing. */
  const EMPTY_ROOT: Hash = sha256();

  /** MTH({d}) = SHA-256(0x00 || d): here d is the 32 bytes of a ledger entry's hash. */
  const leafHash = (data: Uint8Array): Hash => sha256(LEAF_PREFIX, data);

  /** SHA-256(0x01 || left || right). */
  const nodeHash = (left: Hash, right: Hash): Hash => sha256(NODE_PREFIX, left, right);

  /** MTH of a range from the hashes of its cover (rangeCover order): folded from the right. */
  function combineCover(hashes: readonly Hash[]): Hash {
    if (hashes.length === 0) return EMPTY_ROOT;
    let root = hashes[hashes.length - 1] as Hash;
    for (let i = hashes.length - 2; i >= 0; i--) root = nodeHash(hashes[i] as Hash, root);
    return root;
  }

  /**
   * Appends leaves to a tree whose frontier (frontier(size) hashes) is given, and reports every
   * perfect subtree the appends complete (leaves included, as level 0), in completion order.
   */
  function appendLeaves(
    size: number,
    frontierHashes: readonly Hash[],
    leaves: readonly Hash[],
  ): { size: number; frontier: Hash[]; completed: { id: NodeId; hash: Hash }[] } {
    const stack: { id: NodeId; hash: Hash }[] = frontier(size).map((id, i) => ({ id, hash: frontierHashes[i] as Hash }));
    if (stack.length !== frontierHashes.length) throw new Error(`a tree of ${size} leaves has ${stack.length} frontier hashes, not ${frontierHashes.length}`);
    const completed: { id: NodeId; hash: Hash }[] = [];
    let n = size;
    for (const leaf of leaves) {
      let node = { id: { level: 0, index: n }, hash: leaf };
      completed.push(node);
      // Merge while the top of the stack is this node's left sibling (same level).
      while (stack.length > 0 && (stack[stack.length - 1] as { id: NodeId }).id.level === node.id.level) {
        const left = stack.pop() as { id: NodeId; hash: Hash };
        node = { id: { level: node.id.level + 1, index: left.id.index / 2 }, hash: nodeHash(left.hash, node.hash) };
        completed.push(node);
      }
      stack.push(node);
      n += 1;
    }
    return { size: n, frontier: stack.map((s) => s.hash), completed };
  }

  /** MTH of all the leaves, in O(n) hashing and O(log n) memory. */
  function rootOfLeaves(leaves: readonly Hash[]): Hash {
    return combineCover(appendLeaves(0, [], leaves).frontier);
  }

  /** RFC 9162 §2.1.3.2: whether `path` proves leaf `index` (hash `leaf`) in the tree of `size` leaves with `root`. */
  function verifyInclusion(index: number, size: number, leaf: Hash, path: readonly Hash[], root: Hash): boolean {
    if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
    let fn = index;
    let sn = size - 1;
    let r = leaf;
    for (const p of path) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = nodeHash(p, r);
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      } else {
        r = nodeHash(r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && hashesEqual(r, root);
  }

  /**
   * RFC 9162 §2.1.4.2: whether `proof` shows the tree of `size1` leaves with `root1` is a prefix
   * of the tree of `size2` leaves with `root2`. Equal sizes need an empty proof and equal roots;
   * every tree extends the empty one.
   */
  function verifyConsistency(size1: number, size2: number, root1: Hash, root2: Hash, proof: readonly Hash[]): boolean {
    if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 0 || size2 < size1) return false;
    if (size1 === size2) return proof.length === 0 && hashesEqual(root1, root2);
    if (size1 === 0) return proof.length === 0 && hashesEqual(root1, EMPTY_ROOT);
    if (proof.length === 0) return false;
    const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
    let fn = size1 - 1;
    let sn = size2 - 1;
    while (fn % 2 === 1) {
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    let fr = path[0] as Hash;
    let sr = path[0] as Hash;
    for (const c of path.slice(1)) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        fr = nodeHash(c, fr);
        sr = nodeHash(c, sr);
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      } else {
        sr = nodeHash(sr, c);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && hashesEqual(fr, root1) && hashesEqual(sr, root2);
  }

  return { EMPTY_ROOT, leafHash, nodeHash, combineCover, appendLeaves, rootOfLeaves, verifyInclusion, verifyConsistency };
}

export type MerkleHashing = ReturnType<typeof merkleHashing>;
