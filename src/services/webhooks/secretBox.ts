import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

// Endpoint secrets at rest: AES-256-GCM under the service's key (WEBHOOK_SECRET_KEY), the
// endpoint id as associated data, so a sealed secret copied onto another endpoint does not open.
// Stored as base64 of iv (12) | ciphertext | tag (16).

export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the webhook secret key must be 32 bytes');
  }

  seal(plain: Buffer, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64');
  }

  /** The plain bytes; throws when the box was not sealed with this key and context. */
  open(sealed: string, context: string): Buffer {
    const raw = Buffer.from(sealed, 'base64');
    if (raw.length < 12 + 16) throw new Error('sealed secret too short');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
  }
}
