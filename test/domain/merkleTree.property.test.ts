import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  EMPTY_ROOT,
  appendLeaves,
  combineCover,
  consistencyProofRanges,
  fromHex,
  frontier,
  hashesEqual,
  inclusionProofRanges,
  leafHash,
  nodeHash,
  rangeCover,
  rootOfLeaves,
  splitPoint,
  toHex,
  verifyConsistency,
  verifyInclusion,
  type Hash,
} from '../../src/domain/merkleTree.js';

fc.configureGlobal({ seed: 20261201, numRuns: 300 });

// The reference: RFC 9162 §2.1 written as directly as it reads, over byte strings, with its
// own hashing (not the module's), memoized so that every size up to MAX can be checked.
const MAX = 260;
const sha = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();
const data = Array.from({ length: MAX }, (_, i) => sha(Buffer.from(`entry ${i}`)));
const memo = new Map<string, Buffer>();
function mth(lo: number, hi: number): Buffer {
  const key = `${lo}:${hi}`;
  let h = memo.get(key);
  if (h) return h;
  const n = hi - lo;
  if (n === 0) h = sha();
  else if (n === 1) h = sha(Buffer.of(0), data[lo] as Buffer);
  else {
    let k = 1;
    while (k * 2 < n) k *= 2;
    h = sha(Buffer.of(1), mth(lo, lo + k), mth(lo + k, hi));
  }
  memo.set(key, h);
  return h;
}
function refPath(m: number, lo: number, hi: number): Buffer[] {
  const n = hi - lo;
  if (n <= 1) return [];
  let k = 1;
  while (k * 2 < n) k *= 2;
  return m < k ? [...refPath(m, lo, lo + k), mth(lo + k, hi)] : [...refPath(m - k, lo + k, hi), mth(lo, lo + k)];
}
function refSubproof(m: number, lo: number, hi: number, b: boolean): Buffer[] {
  const n = hi - lo;
  if (m === n) return b ? [] : [mth(lo, hi)];
  let k = 1;
  while (k * 2 < n) k *= 2;
  return m <= k ? [...refSubproof(m, lo, lo + k, b), mth(lo + k, hi)] : [...refSubproof(m - k, lo + k, hi, false), mth(lo, lo + k)];
}

const leaves: Hash[] = data.map((d) => leafHash(d));
/** A perfect subtree's hash the way a node store would hold it. */
const perfect = (level: number, index: number): Hash => new Uint8Array(mth(index * 2 ** level, (index + 1) * 2 ** level));
/** A range's hash from its cover of perfect subtrees: what the service does with stored nodes. */
const rangeHash = (lo: number, hi: number): Hash => combineCover(rangeCover({ lo, hi }).map(({ level, index }) => perfect(level, index)));
const proofHashes = (ranges: { lo: number; hi: number }[]): Hash[] => ranges.map(({ lo, hi }) => rangeHash(lo, hi));
const same = (a: readonly Uint8Array[], b: readonly Uint8Array[]) => a.length === b.length && a.every((x, i) => hashesEqual(x, b[i] as Uint8Array));
const flip = (h: Hash, bit: number): Hash => {
  const out = new Uint8Array(h);
  out[bit >> 3] = (out[bit >> 3] as number) ^ (1 << (bit & 7));
  return out;
};

describe('merkle tree against the recursive RFC 9162 definition', () => {
  it('has the RFC empty root and leaf/node hashing', () => {
    expect(toHex(EMPTY_ROOT)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hashesEqual(nodeHash(leaves[0] as Hash, leaves[1] as Hash), mth(0, 2))).toBe(true);
    expect(rootOfLeaves([])).toEqual(EMPTY_ROOT);
    expect(combineCover([])).toEqual(EMPTY_ROOT);
  });

  it('computes the root of every size up to MAX, from scratch and by appending in steps', () => {
    for (let n = 0; n <= MAX; n++) {
      expect(toHex(rootOfLeaves(leaves.slice(0, n)))).toBe(mth(0, n).toString('hex'));
    }
    // Appending from a frontier in uneven steps gives the same roots and completes each perfect subtree once.
    let state = { size: 0, frontier: [] as Hash[] };
    const seen = new Set<string>();
    for (const step of [1, 2, 3, 5, 8, 13, 1, 1, 40, 100, 86]) {
      const next = appendLeaves(state.size, state.frontier, leaves.slice(state.size, state.size + step));
      for (const { id, hash } of next.completed) {
        const key = `${id.level}/${id.index}`;
        expect(seen.has(key)).toBe(false);
        seen.add(key);
        expect(hashesEqual(hash, perfect(id.level, id.index))).toBe(true);
      }
      expect(frontier(next.size).map(({ level, index }) => toHex(perfect(level, index)))).toEqual(next.frontier.map(toHex));
      expect(toHex(combineCover(next.frontier))).toBe(mth(0, next.size).toString('hex'));
      state = next;
    }
    expect(state.size).toBe(MAX);
    expect(seen.size).toBe(2 * MAX - [...MAX.toString(2)].filter((c) => c === '1').length);
  });

  it('refuses a frontier that does not fit the size', () => {
    expect(() => appendLeaves(3, [leaves[0] as Hash], [])).toThrow('a tree of 3 leaves has 2 frontier hashes, not 1');
  });

  it('builds and verifies the inclusion proof of every leaf of every size up to MAX', () => {
    for (let n = 1; n <= MAX; n++) {
      const root = new Uint8Array(mth(0, n));
      for (let m = 0; m < n; m++) {
        const proof = proofHashes(inclusionProofRanges(m, n));
        expect(same(proof, refPath(m, 0, n))).toBe(true);
        expect(verifyInclusion(m, n, leaves[m] as Hash, proof, root)).toBe(true);
      }
    }
  });

  it('builds and verifies the consistency proof of every pair of sizes up to MAX', () => {
    for (let n = 1; n <= MAX; n++) {
      const root2 = new Uint8Array(mth(0, n));
      for (let m = 1; m < n; m++) {
        const proof = proofHashes(consistencyProofRanges(m, n));
        expect(same(proof, refSubproof(m, 0, n, true))).toBe(true);
        expect(verifyConsistency(m, n, new Uint8Array(mth(0, m)), root2, proof)).toBe(true);
      }
    }
  });

  it('rejects an inclusion proof with any change: leaf, index, path element, path length, root', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX }).chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 1), fc.nat(255), fc.nat(4))), ([n, m, bit, kind]) => {
        const root = new Uint8Array(mth(0, n));
        const proof = proofHashes(inclusionProofRanges(m, n));
        const leaf = leaves[m] as Hash;
        switch (kind) {
          case 0:
            expect(verifyInclusion(m, n, flip(leaf, bit), proof, root)).toBe(false);
            break;
          case 1:
            expect(verifyInclusion(m, n, leaf, proof, flip(root, bit))).toBe(false);
            break;
          case 2:
            if (proof.length > 0) expect(verifyInclusion(m, n, leaf, proof.map((p, i) => (i === bit % proof.length ? flip(p, bit) : p)), root)).toBe(false);
            expect(verifyInclusion(m, n, leaf, [...proof, leaf], root)).toBe(false);
            if (proof.length > 0) expect(verifyInclusion(m, n, leaf, proof.slice(1), root)).toBe(false);
            break;
          case 3:
            if (n > 1) expect(verifyInclusion((m + 1) % n, n, leaf, proof, root)).toBe(false);
            break;
          default:
            // (A size with the same path shape is not refused by the path alone: the root binds the size.)
            expect(verifyInclusion(m + n, n, leaf, proof, root)).toBe(false);
        }
      }),
    );
  });

  it('rejects a consistency proof with any change, and a rewritten history', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: MAX }).chain((n) => fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.constant(n), fc.nat(255), fc.nat(3))), ([m, n, bit, kind]) => {
        const root1 = new Uint8Array(mth(0, m));
        const root2 = new Uint8Array(mth(0, n));
        const proof = proofHashes(consistencyProofRanges(m, n));
        switch (kind) {
          case 0:
            expect(verifyConsistency(m, n, flip(root1, bit), root2, proof)).toBe(false);
            break;
          case 1:
            expect(verifyConsistency(m, n, root1, flip(root2, bit), proof)).toBe(false);
            break;
          case 2:
            expect(verifyConsistency(m, n, root1, root2, proof.map((p, i) => (i === bit % proof.length ? flip(p, bit) : p)))).toBe(false);
            expect(verifyConsistency(m, n, root1, root2, [...proof, root1])).toBe(false);
            expect(verifyConsistency(m, n, root1, root2, proof.slice(0, -1))).toBe(false);
            break;
          default: {
            // The same second tree with one old leaf replaced: no proof from the old root fits.
            const rewritten = leaves.slice(0, n).map((l, i) => (i === bit % m ? flip(l, bit) : l));
            expect(verifyConsistency(m, n, root1, rootOfLeaves(rewritten), proof)).toBe(false);
          }
        }
      }),
    );
  });

  it('handles the edges: empty, equal sizes, out-of-range and unsafe numbers', () => {
    const root3 = new Uint8Array(mth(0, 3));
    expect(consistencyProofRanges(0, 3)).toEqual([]);
    expect(consistencyProofRanges(3, 3)).toEqual([]);
    expect(verifyConsistency(0, 3, EMPTY_ROOT, root3, [])).toBe(true);
    expect(verifyConsistency(0, 3, root3, root3, [])).toBe(false);
    expect(verifyConsistency(0, 3, EMPTY_ROOT, root3, [root3])).toBe(false);
    expect(verifyConsistency(3, 3, root3, root3, [])).toBe(true);
    expect(verifyConsistency(3, 3, root3, root3, [root3])).toBe(false);
    expect(verifyConsistency(3, 3, root3, EMPTY_ROOT, [])).toBe(false);
    expect(verifyConsistency(2, 3, new Uint8Array(mth(0, 2)), root3, [])).toBe(false);
    expect(verifyConsistency(4, 3, root3, root3, [])).toBe(false);
    expect(verifyConsistency(-1, 3, root3, root3, [])).toBe(false);
    expect(verifyConsistency(1.5, 3, root3, root3, [])).toBe(false);
    // A proof longer than the tree is deep runs out of levels.
    const proof = proofHashes(consistencyProofRanges(1, 2));
    expect(verifyConsistency(1, 2, leaves[0] as Hash, new Uint8Array(mth(0, 2)), [...proof, root3, root3])).toBe(false);
    expect(verifyInclusion(3, 3, leaves[3] as Hash, [], root3)).toBe(false);
    expect(verifyInclusion(-1, 3, leaves[0] as Hash, [], root3)).toBe(false);
    expect(verifyInclusion(0, Number.MAX_SAFE_INTEGER + 2, leaves[0] as Hash, [], root3)).toBe(false);
    expect(verifyInclusion(0, 1, leaves[0] as Hash, [], leaves[0] as Hash)).toBe(true);
    expect(inclusionProofRanges(0, 1)).toEqual([]);
    expect(splitPoint(2)).toBe(1);
    expect(splitPoint(5)).toBe(4);
    expect(splitPoint(8)).toBe(4);
  });

  it('converts hex both ways and refuses what is not hex', () => {
    expect(fromHex('00ff')).toEqual(Uint8Array.of(0, 255));
    expect(fromHex('AB')).toEqual(Uint8Array.of(171));
    expect(fromHex('abc')).toBeNull();
    expect(fromHex('zz')).toBeNull();
    expect(toHex(Uint8Array.of(1, 2))).toBe('0102');
  });
});
