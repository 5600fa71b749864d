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
    expect(c.tenantGatePolicies).toEqual({});
  });

  it('requires a signing secret in production, in one clear line', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET: is required when NODE_ENV=production/);
    // Production also needs the ledger's signing key (issue 15).
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), LEDGER_SIGNING_KEY: generateSigningKey() }).JWT_SECRET).toBe('x'.repeat(32));
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

  it('parses tenant gate policies and rejects unknown keys', () => {
    const c = loadConfig({ TENANT_GATE_POLICIES: JSON.stringify({ t1: { human_touch_action_types: ['REQUEST_RENEWAL_MEETING'] } }) });
    expect(c.tenantGatePolicies.t1?.human_touch_action_types).toEqual(['REQUEST_RENEWAL_MEETING']);
    expect(() => loadConfig({ TENANT_GATE_POLICIES: '{' })).toThrow(/not valid JSON/);
    expect(() => loadConfig({ TENANT_GATE_POLICIES: JSON.stringify({ t1: { nope: true } }) })).toThrow(/TENANT_GATE_POLICIES/);
  });

  it('treats blank optional values as unset', () => {
    expect(loadConfig({ MONGODB_URI: '  ', GEMINI_API_KEY: '' }).MONGODB_URI).toBeUndefined();
  });
});
