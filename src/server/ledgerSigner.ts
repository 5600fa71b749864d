import type { AppConfig } from '../config/env.js';
import { parsePrivateKey, parsePublicKey } from '../config/ledgerSigningKey.js';
import { CheckpointSigner, generateSigningKey } from '../services/ledgerLog/checkpointSigner.js';
import { devKeyFromDataDir } from './devKeyFile.js';

/** Where development keeps its generated checkpoint key (mode 0600). */
export const DEV_SIGNING_KEY_FILE = 'ledger-signing-key';

/**
 * The key NODE_ENV=test signs with when LEDGER_SIGNING_KEY is unset: fixed (like the
 * development JWT secret), so a restarted test service still verifies what the one before
 * signed. Ed25519 PKCS#8 DER of the seed 0x00…0x1f; public, so never for production.
 */
export const TEST_SIGNING_KEY = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(Array.from({ length: 32 }, (_, i) => i))]).toString('base64');

/**
 * The checkpoint signer from the configuration: LEDGER_SIGNING_KEY when set (production
 * requires it, env.ts checks its format); in development a key generated once into DATA_DIR;
 * in tests without one, TEST_SIGNING_KEY.
 */
export function ledgerSignerFromConfig(config: AppConfig, logger: { warn(obj: object, msg: string): void }): CheckpointSigner {
  const previous = (config.LEDGER_PREVIOUS_PUBLIC_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean).map(parsePublicKey);
  if (config.LEDGER_SIGNING_KEY) return new CheckpointSigner(parsePrivateKey(config.LEDGER_SIGNING_KEY), previous);
  if (!config.isDevelopment) return new CheckpointSigner(parsePrivateKey(TEST_SIGNING_KEY), previous);
  const key = devKeyFromDataDir(config.DATA_DIR, DEV_SIGNING_KEY_FILE, generateSigningKey, logger, 'ledger signing key (set LEDGER_SIGNING_KEY in production)');
  return new CheckpointSigner(parsePrivateKey(key), previous);
}
