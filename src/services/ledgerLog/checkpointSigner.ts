import { createHash, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { noteStates } from '../../domain/ledgerCheckpoint.js';
import type { CheckpointDoc } from '../../store/index.js';
export { parsePrivateKey, parsePublicKey } from '../../config/ledgerSigningKey.js';

// Ed25519 keys of the verifiable ledger (docs/ledger.md). The private key comes
// from the environment (or, in development, a file in DATA_DIR), never from the database, so
// whoever can write the database cannot sign a checkpoint. A key is named by its keyId:
// the first 16 hex digits of SHA-256 of the raw 32-byte public key.

/** The keyId of a raw 32-byte Ed25519 public key. */
export const keyIdOf = (rawPublicKey: Uint8Array): string => createHash('sha256').update(rawPublicKey).digest('hex').slice(0, 16);

const rawPublicKey = (key: KeyObject): Buffer => {
  const jwk = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' });
  return Buffer.from(jwk.x as string, 'base64url');
};

/** A new private key as LEDGER_SIGNING_KEY wants it. */
export function generateSigningKey(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
}

/** Signs checkpoint notes with the current key; verifies them with it and the previous ones. */
export class CheckpointSigner {
  readonly keyId: string;
  /** By keyId: the key and its raw 32 bytes, base64. */
  private readonly verifying = new Map<string, { key: KeyObject; publicKey: string }>();

  constructor(
    private readonly privateKey: KeyObject,
    previousPublicKeys: readonly KeyObject[] = [],
  ) {
    for (const key of [createPublicKey(privateKey), ...previousPublicKeys]) {
      const raw = rawPublicKey(key);
      const keyId = keyIdOf(raw);
      if (!this.verifying.has(keyId)) this.verifying.set(keyId, { key, publicKey: raw.toString('base64') });
    }
    this.keyId = keyIdOf(rawPublicKey(privateKey));
  }

  /** Base64 Ed25519 signature over the note's UTF-8 bytes. */
  sign(note: string): string {
    return sign(null, Buffer.from(note, 'utf8'), this.privateKey).toString('base64');
  }

  /** Whether `signature` is a valid signature of `note` by the key named `keyId` (one of ours). */
  verify(note: string, signature: string, keyId: string): boolean {
    const entry = this.verifying.get(keyId);
    if (!entry) return false;
    const bytes = Buffer.from(signature, 'base64');
    if (bytes.length !== 64 || bytes.toString('base64') !== signature) return false;
    return verify(null, Buffer.from(note, 'utf8'), entry.key, bytes);
  }

  /** Whether a stored checkpoint is what its note says and the note is signed by one of our keys. */
  authentic(c: Pick<CheckpointDoc, 'note' | 'signature' | 'key_id' | 'tenant_id' | 'tree_size' | 'root_hash' | 'timestamp'>): boolean {
    return noteStates(c.note, { tenantId: c.tenant_id, treeSize: c.tree_size, rootHash: c.root_hash, timestamp: c.timestamp }) && this.verify(c.note, c.signature, c.key_id);
  }

  /** The keys checkpoints can be checked with, the current one first, as the API publishes them (LedgerSigningKey). */
  publicKeys() {
    return [...this.verifying].map(([keyId, { publicKey }]) => ({ keyId, algorithm: 'Ed25519' as const, publicKey }));
  }
}
