import { createHash } from 'node:crypto';
import { merkleHashing } from './merkleCore.js';

// The RFC 9162 Merkle tree (src/domain/merkleCore.ts) bound to node:crypto's SHA-256: what the
// service, the sealer and the offline verifier use.

export {
  consistencyProofRanges,
  fromHex,
  frontier,
  hashesEqual,
  inclusionProofRanges,
  rangeCover,
  splitPoint,
  toHex,
  type Hash,
  type LeafRange,
  type NodeId,
} from './merkleCore.js';

const nodeSha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return new Uint8Array(h.digest());
};

export const { EMPTY_ROOT, leafHash, nodeHash, combineCover, appendLeaves, rootOfLeaves, verifyInclusion, verifyConsistency } = merkleHashing(nodeSha256);
