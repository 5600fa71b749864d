import { randomBytes } from 'node:crypto';
import type { AppConfig } from '../config/env.js';
import { parseWebhookSecretKey } from '../config/webhookSecretKey.js';
import { devKeyFromDataDir } from './devKeyFile.js';

/** Where development keeps its generated webhook secret key (mode 0600). */
export const DEV_WEBHOOK_KEY_FILE = 'webhook-secret-key';

/** The key NODE_ENV=test uses when WEBHOOK_SECRET_KEY is unset: fixed, public, never for production. */
export const TEST_WEBHOOK_KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => 0x40 + i)).toString('base64');

/**
 * The key that seals endpoint secrets: WEBHOOK_SECRET_KEY when set (production requires it);
 * in development a key generated once into DATA_DIR; in tests without one, TEST_WEBHOOK_KEY.
 */
export function webhookSecretKeyFromConfig(config: AppConfig, logger: { warn(obj: object, msg: string): void }): Buffer {
  if (config.WEBHOOK_SECRET_KEY) return parseWebhookSecretKey(config.WEBHOOK_SECRET_KEY);
  if (!config.isDevelopment) return parseWebhookSecretKey(TEST_WEBHOOK_KEY);
  const generate = () => randomBytes(32).toString('base64');
  return parseWebhookSecretKey(devKeyFromDataDir(config.DATA_DIR, DEV_WEBHOOK_KEY_FILE, generate, logger, 'webhook secret key (set WEBHOOK_SECRET_KEY in production)'));
}
