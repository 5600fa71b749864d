import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AppConfig } from '../config/env.js';
import { parsePrivateKey, parsePublicKey } from '../config/ledgerSigningKey.js';
import { CheckpointSigner, generateSigningKey } from '../services/ledgerLog/checkpointSigner.js';

/** Where development keeps its generated checkpoint key (mode 0600). */
export const DEV_SIGNING_KEY_FILE = 'ledger-signing-key';

/**
 * The checkpoint signer from the configuration: LEDGER_SIGNING_KEY when set (production
 * requires it, env.ts checks its format); in development a key generated once into DATA_DIR;
 * in tests without one, a fresh key per process.
 */
export function ledgerSignerFromConfig(config: AppConfig, logger: { warn(obj: object, msg: string): void }): CheckpointSigner {
  const previous = (config.LEDGER_PREVIOUS_PUBLIC_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean).map(parsePublicKey);
  if (config.LEDGER_SIGNING_KEY) return new CheckpointSigner(parsePrivateKey(config.LEDGER_SIGNING_KEY), previous);
  if (!config.isDevelopment) return new CheckpointSigner(parsePrivateKey(generateSigningKey()), previous);
  const dir = resolve(config.DATA_DIR);
  const file = join(dir, DEV_SIGNING_KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, `${generateSigningKey()}\n`, { mode: 0o600, flag: 'wx' });
    logger.warn({ file }, 'generated a development ledger signing key (set LEDGER_SIGNING_KEY in production)');
  }
  chmodSync(file, 0o600);
  return new CheckpointSigner(parsePrivateKey(readFileSync(file, 'utf8').trim()), previous);
}
