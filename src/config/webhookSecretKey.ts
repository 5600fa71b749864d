// The key that encrypts webhook endpoint secrets at rest (WEBHOOK_SECRET_KEY): base64 of 32
// bytes, an AES-256 key. Validated once at start (env.ts).

/** The key's bytes; throws an Error saying what is wrong. */
export function parseWebhookSecretKey(base64: string): Buffer {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw new Error('must be base64 of 32 random bytes');
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32) throw new Error(`must be 32 bytes (base64), not ${key.length}`);
  return key;
}
