import { describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { mintDevToken } from '../../src/auth/devToken.js';
import type { Principal } from '../../src/auth/principal.js';
import { effectiveRoles } from '../../src/auth/roles.js';
import { createTokenVerifier } from '../../src/auth/tokenVerifier.js';
import { VerifiedTokenCache } from '../../src/auth/verifiedTokenCache.js';

const SECRET = 'cache-test-secret-0123456789abcdef0123456789';
const principal = (sub: string): Principal => ({ sub, tenantId: 't1', claimedRoles: ['plan-viewer'], roles: effectiveRoles(['plan-viewer']) });

describe('VerifiedTokenCache', () => {
  it('serves a token until its exp or its ttl, whichever is first', () => {
    let now = 1_000_000;
    const cache = new VerifiedTokenCache({ ttlMs: 60_000, now: () => now });
    cache.set('short', principal('a'), now / 1000 + 10); // expires in 10 s
    cache.set('long', principal('b'), now / 1000 + 3600); // lives an hour, trusted 60 s
    expect(cache.get('short')?.sub).toBe('a');
    now += 10_000;
    expect(cache.get('short')).toBeNull();
    expect(cache.get('long')?.sub).toBe('b');
    now += 50_000;
    expect(cache.get('long')).toBeNull();
    expect(cache.size).toBe(0);
  });

  it('does not serve a token before its nbf, nor remember one already expired', () => {
    const now = 5_000_000;
    const cache = new VerifiedTokenCache({ now: () => now });
    cache.set('later', principal('a'), now / 1000 + 100, now / 1000 + 5);
    expect(cache.get('later')).toBeNull();
    cache.set('gone', principal('b'), now / 1000 - 1);
    expect(cache.size).toBe(0);
  });

  it('keeps at most maxEntries, dropping the least recently used', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 2 });
    const exp = Date.now() / 1000 + 600;
    cache.set('a', principal('a'), exp);
    cache.set('b', principal('b'), exp);
    expect(cache.get('a')?.sub).toBe('a'); // a is now the most recent
    cache.set('c', principal('c'), exp);
    expect(cache.get('b')).toBeNull();
    expect(cache.get('a')?.sub).toBe('a');
    expect(cache.get('c')?.sub).toBe('c');
    const off = new VerifiedTokenCache({ maxEntries: 0 });
    off.set('a', principal('a'), exp);
    expect(off.get('a')).toBeNull();
  });
});

describe('createTokenVerifier with its cache', () => {
  it('answers a repeated token from the cache and still refuses a forged one', async () => {
    const verify = createTokenVerifier({ JWT_SECRET: SECRET, JWT_JWKS_URL: undefined, JWT_ISSUER: undefined, JWT_AUDIENCE: undefined });
    const token = await mintDevToken({ secret: SECRET, tenantId: 't1', roles: ['plan-viewer'], sub: 'alice', ttlSeconds: 600 });
    const first = await verify(token);
    expect(await verify(token)).toBe(first); // the same object: no second verification
    expect(Object.isFrozen(first)).toBe(true);
    // Same header and claims, another tenant, signed with a different key: a different string.
    const forged = await new SignJWT({ tenant_id: 't2', roles: ['plan-approver'] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('alice')
      .setExpirationTime(Math.floor(Date.now() / 1000) + 600)
      .sign(new TextEncoder().encode('another-secret-0123456789abcdef0123456789'));
    await expect(verify(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const [head, body] = token.split('.');
    await expect(verify(`${head}.${body}.${'A'.repeat(43)}`)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('refuses an expired token even after it was accepted (cache entries end at exp)', async () => {
    let now = Date.now();
    const verify = createTokenVerifier(
      { JWT_SECRET: SECRET, JWT_JWKS_URL: undefined, JWT_ISSUER: undefined, JWT_AUDIENCE: undefined },
      { now: () => now },
    );
    const token = await mintDevToken({ secret: SECRET, tenantId: 't1', roles: [], sub: 'bob', ttlSeconds: 1 });
    await verify(token);
    now += 2000;
    await new Promise((r) => setTimeout(r, 2100)); // past exp for jose too
    await expect(verify(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: 'token has expired' });
  });
});
