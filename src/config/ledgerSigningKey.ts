import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

// Parsing the verifiable ledger's keys from the environment (validated once at start, see
// env.ts). LEDGER_SIGNING_KEY: base64 PKCS#8 DER of an Ed25519 private key;
// LEDGER_PREVIOUS_PUBLIC_KEYS: base64 raw 32-byte Ed25519 public keys of rotated-out keys.

/** The private key from base64 PKCS#8 DER; throws an Error saying what is wrong. */
export function parsePrivateKey(base64: string): KeyObject {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw new Error('must be base64 (PKCS#8 DER of an Ed25519 private key)');
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(base64, 'base64'), format: 'der', type: 'pkcs8' });
  } catch {
    throw new Error('is not a PKCS#8 DER private key');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`must be an Ed25519 key, not ${key.asymmetricKeyType ?? 'unknown'}`);
  return key;
}

/** A public key from base64 of its raw 32 bytes; throws when it is not one. */
export function parsePublicKey(base64: string): KeyObject {
  const raw = Buffer.from(base64, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== base64) throw new Error('must be base64 of a raw 32-byte Ed25519 public key');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

