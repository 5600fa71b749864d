import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

// Standard Webhooks signing, by the `standardwebhooks` library (the same one receivers verify
// with): v1,<base64 HMAC-SHA256(key, id.timestamp.body)>. During a rotation every live key
// signs, space-separated, so a receiver holding either secret verifies.

const SECRET_PREFIX = 'whsec_';
/** Key bytes per secret (the spec allows 24–64). */
const KEY_BYTES = 32;

export const newWebhookKey = (): Buffer => randomBytes(KEY_BYTES);

/** The secret as shown to the endpoint's owner: whsec_<base64 of the key>. */
export const formatWebhookSecret = (key: Buffer): string => `${SECRET_PREFIX}${key.toString('base64')}`;

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The three headers for one attempt, signed by every key in `keys` (newest first). */
export function signWebhook(keys: readonly Buffer[], msgId: string, at: Date, body: string): SignedHeaders {
  if (keys.length === 0) throw new Error('no signing key');
  const seconds = Math.floor(at.getTime() / 1000);
  const signatures = keys.map((key) => new Webhook(key, { format: 'raw' }).sign(msgId, new Date(seconds * 1000), body));
  return { 'webhook-id': msgId, 'webhook-timestamp': String(seconds), 'webhook-signature': signatures.join(' ') };
}
