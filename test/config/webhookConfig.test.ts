import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../../src/config/env.js';
import { generateSigningKey } from '../../src/services/ledgerLog/checkpointSigner.js';
import { DEV_WEBHOOK_KEY_FILE, webhookSecretKeyFromConfig } from '../../src/server/webhookSecretKey.js';
import { SecretBox } from '../../src/services/webhooks/secretBox.js';
import { formatWebhookSecret, newWebhookKey, signWebhook } from '../../src/services/webhooks/webhookSigning.js';

const quiet = { warn: () => undefined };
const prod = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), LEDGER_SIGNING_KEY: generateSigningKey() };

describe('webhook configuration', () => {
  it('requires WEBHOOK_SECRET_KEY in production, checks its form, refuses WEBHOOK_ALLOW_LOOPBACK there', () => {
    expect(() => loadConfig(prod)).toThrow(/WEBHOOK_SECRET_KEY: is required when NODE_ENV=production/);
    expect(() => loadConfig({ ...prod, WEBHOOK_SECRET_KEY: 'short' })).toThrow(/WEBHOOK_SECRET_KEY: must be 32 bytes/);
    expect(() => loadConfig({ ...prod, WEBHOOK_SECRET_KEY: 'not base64!' })).toThrow(/WEBHOOK_SECRET_KEY: must be base64/);
    const key = randomBytes(32).toString('base64');
    expect(() => loadConfig({ ...prod, WEBHOOK_SECRET_KEY: key, WEBHOOK_ALLOW_LOOPBACK: 'true' })).toThrow(/WEBHOOK_ALLOW_LOOPBACK: must not be true when NODE_ENV=production/);
    const config = loadConfig({ ...prod, WEBHOOK_SECRET_KEY: key });
    expect(config.WEBHOOK_ALLOW_LOOPBACK).toBe(false);
    expect(config.WEBHOOK_RETRY_FOR_MS).toBe(3 * 86_400_000);
    expect(config.WEBHOOK_ROTATION_OVERLAP_MS).toBe(86_400_000);
    expect(webhookSecretKeyFromConfig(config, quiet).toString('base64')).toBe(key);
    expect(loadConfig({ WEBHOOK_ALLOW_LOOPBACK: 'true' }).WEBHOOK_ALLOW_LOOPBACK).toBe(true);
  });

  it('generates the development key once into DATA_DIR (mode 0600) and keeps using it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'whkey-'));
    const config = loadConfig({ NODE_ENV: 'development', DATA_DIR: dir });
    const first = webhookSecretKeyFromConfig(config, quiet);
    const second = webhookSecretKeyFromConfig(config, quiet);
    expect(first.length).toBe(32);
    expect(second.equals(first)).toBe(true);
    expect((await readFile(join(dir, DEV_WEBHOOK_KEY_FILE), 'utf8')).trim()).toBe(first.toString('base64'));
    expect((await stat(join(dir, DEV_WEBHOOK_KEY_FILE))).mode & 0o777).toBe(0o600);
  });

  it('seals secrets so that only the same key and endpoint open them', () => {
    const box = new SecretBox(randomBytes(32));
    const secret = newWebhookKey();
    const sealed = box.seal(secret, 'whep_a');
    expect(sealed).not.toContain(secret.toString('base64'));
    expect(box.open(sealed, 'whep_a').equals(secret)).toBe(true);
    expect(() => box.open(sealed, 'whep_b')).toThrow();
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'whep_a')).toThrow();
  });

  it('signs as standardwebhooks verifies, with every live key', () => {
    const [a, b] = [newWebhookKey(), newWebhookKey()];
    const body = '{"type":"webhook.test"}';
    const headers = signWebhook([a, b], 'msg_1', new Date(), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const key of [a, b]) expect(new Webhook(formatWebhookSecret(key)).verify(body, headers)).toEqual({ type: 'webhook.test' });
    expect(() => new Webhook(formatWebhookSecret(newWebhookKey())).verify(body, headers)).toThrow();
    expect(() => new Webhook(formatWebhookSecret(a)).verify(`${body} `, headers)).toThrow();
  });
});
