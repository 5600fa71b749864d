import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/env.js';
import { CheckpointSigner, generateSigningKey, parsePrivateKey } from '../../src/services/ledgerLog/checkpointSigner.js';
import { DEV_SIGNING_KEY_FILE, TEST_SIGNING_KEY, ledgerSignerFromConfig } from '../../src/server/ledgerSigner.js';

const quiet = { warn: () => undefined };
const publicKeyOf = (key: string) => new CheckpointSigner(parsePrivateKey(key)).publicKeys()[0]!;

describe('ledger signing keys from the environment', () => {
  it('names LEDGER_SIGNING_KEY when production lacks it or it is malformed', () => {
    const prod = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) };
    expect(() => loadConfig(prod)).toThrow(/LEDGER_SIGNING_KEY: is required when NODE_ENV=production/);
    expect(() => loadConfig({ ...prod, LEDGER_SIGNING_KEY: 'not base64!' })).toThrow(/LEDGER_SIGNING_KEY: must be base64/);
    expect(() => loadConfig({ ...prod, LEDGER_SIGNING_KEY: Buffer.from('hello').toString('base64') })).toThrow(/LEDGER_SIGNING_KEY: is not a PKCS#8 DER private key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    expect(() => loadConfig({ ...prod, LEDGER_SIGNING_KEY: rsa })).toThrow(/LEDGER_SIGNING_KEY: must be an Ed25519 key, not rsa/);
    expect(() => loadConfig({ LEDGER_PREVIOUS_PUBLIC_KEYS: 'abc' })).toThrow(/LEDGER_PREVIOUS_PUBLIC_KEYS: abc…: must be base64 of a raw 32-byte/);
    expect(() => loadConfig({ LEDGER_CHECKPOINT_INTERVAL_MS: '6000' })).toThrow(/LEDGER_CHECKPOINT_INTERVAL_MS/);
    expect(loadConfig({ ...prod, LEDGER_SIGNING_KEY: generateSigningKey(), WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64') }).LEDGER_SEALER).toBe('on');
  });

  it('signs with the configured key and still verifies checkpoints of a rotated-out one', () => {
    const old = generateSigningKey();
    const oldSigner = new CheckpointSigner(parsePrivateKey(old));
    const note = 'renewal-defense-ledger/v1\nt\n1\n' + '0'.repeat(64) + '\n2026-12-01T00:00:00.000Z\n';
    const oldSignature = oldSigner.sign(note);
    const current = generateSigningKey();
    const signer = ledgerSignerFromConfig(loadConfig({ NODE_ENV: 'test', LEDGER_SIGNING_KEY: current, LEDGER_PREVIOUS_PUBLIC_KEYS: publicKeyOf(old).publicKey }), quiet);
    expect(signer.keyId).toBe(publicKeyOf(current).keyId);
    expect(signer.publicKeys().map((k) => k.keyId)).toEqual([publicKeyOf(current).keyId, oldSigner.keyId]);
    expect(signer.verify(note, oldSignature, oldSigner.keyId)).toBe(true);
    expect(signer.verify(note, signer.sign(note), signer.keyId)).toBe(true);
    expect(signer.verify(note.replace('\n1\n', '\n2\n'), oldSignature, oldSigner.keyId)).toBe(false);
    expect(signer.verify(note, oldSignature, 'unknown')).toBe(false);
    expect(signer.verify(note, 'short', oldSigner.keyId)).toBe(false);
  });

  it('generates a development key once into DATA_DIR, readable only by its owner', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ledger-key-'));
    const config = loadConfig({ NODE_ENV: 'development', DATA_DIR: dir });
    const first = ledgerSignerFromConfig(config, quiet);
    const second = ledgerSignerFromConfig(config, quiet);
    expect(second.keyId).toBe(first.keyId);
    const file = join(dir, DEV_SIGNING_KEY_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(new CheckpointSigner(parsePrivateKey((await readFile(file, 'utf8')).trim())).keyId).toBe(first.keyId);
    // Tests without a key share a fixed one (so a restarted test service verifies older checkpoints), written nowhere.
    const testSigner = ledgerSignerFromConfig(loadConfig({ NODE_ENV: 'test', DATA_DIR: join(dir, 'unused') }), quiet);
    expect(testSigner.keyId).toBe(new CheckpointSigner(parsePrivateKey(TEST_SIGNING_KEY)).keyId);
    expect(testSigner.keyId).not.toBe(first.keyId);
    await expect(stat(join(dir, 'unused'))).rejects.toThrow();
  });
});
