import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, DEV_JWT_SECRET, loadConfig } from '../../src/config/env.js';
import { generateSigningKey } from '../../src/services/ledgerLog/checkpointSigner.js';

describe('loadConfig', () => {
  it('gives development defaults with a dev signing secret', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(4000);
    expect(c.HOST).toBe('127.0.0.1');
    expect(c.isDevelopment).toBe(true);
    expect(c.JWT_SECRET).toBe(DEV_JWT_SECRET);
    expect(c.PROPOSAL_LLM_FALLBACK).toBe('rules');
  });

  it('requires a signing secret in production, in one clear line', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET: is required when NODE_ENV=production/);
    // Production also needs the ledger's signing key (docs/ledger.md) and the webhook secrets' key (docs/webhooks.md).
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), LEDGER_SIGNING_KEY: generateSigningKey(), WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64') }).JWT_SECRET).toBe('x'.repeat(32));
  });

  it('refuses a non-loopback HOST while tokens would be checked against the public development secret', () => {
    for (const env of [{ HOST: '0.0.0.0' }, { HOST: '192.0.2.7', NODE_ENV: 'test' }, { HOST: '::' }]) {
      expect(() => loadConfig(env)).toThrow(/HOST: .* is not a loopback address.*set NODE_ENV=production .*JWT_SECRET/);
    }
    for (const HOST of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.1.2.3']) expect(loadConfig({ HOST }).HOST).toBe(HOST);
    expect(loadConfig({ HOST: '0.0.0.0', JWT_SECRET: 'a'.repeat(32) }).JWT_SECRET).toBe('a'.repeat(32));
    expect(loadConfig({ HOST: '0.0.0.0', JWT_JWKS_URL: 'https://idp.example/jwks' }).JWT_SECRET).toBeUndefined();
  });

  it('rejects malformed values with the variable name', () => {
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(/PORT/);
    expect(() => loadConfig({ PROPOSAL_LLM_FALLBACK: 'maybe' })).toThrow(/PROPOSAL_LLM_FALLBACK/);
    expect(() => loadConfig({ GEMINI_BASE_URL: 'not a url' })).toThrow(/GEMINI_BASE_URL/);
    expect(() => loadConfig({ MONGODB_DB: 'a.b' })).toThrow(/MONGODB_DB/);
  });

  it("refuses TENANT_GATE_POLICIES: a tenant's gate policy is part of its playbook now", () => {
    expect(() => loadConfig({ TENANT_GATE_POLICIES: JSON.stringify({ t1: { human_touch_action_types: ['REQUEST_RENEWAL_MEETING'] } }) })).toThrow(
      /TENANT_GATE_POLICIES: is no longer read: .*playbook/,
    );
    expect('tenantGatePolicies' in loadConfig({})).toBe(false);
  });

  it('treats blank optional values as unset', () => {
    expect(loadConfig({ MONGODB_URI: '  ', GEMINI_API_KEY: '' }).MONGODB_URI).toBeUndefined();
  });
});
