import { createRemoteJWKSet, jwtVerify, errors as joseErrors, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { AppConfig } from '../config/env.js';
import { AppError } from '../domain/errors.js';
import type { Principal } from './principal.js';
import { claimId } from './claimIds.js';
import { effectiveRoles } from './roles.js';
import { VerifiedTokenCache, type VerifiedTokenCacheOptions } from './verifiedTokenCache.js';

const ClaimsSchema = z.object({
  sub: claimId,
  tenant_id: claimId,
  roles: z.array(z.string().max(64)).max(32),
  exp: z.number(),
  nbf: z.number().optional(),
});

export type TokenVerifier = (token: string) => Promise<Principal>;

/**
 * HS256 with JWT_SECRET, or RS256/ES256 from JWT_JWKS_URL; issuer and audience when set. A
 * token verified once is remembered for a while (see verifiedTokenCache.ts).
 */
export function createTokenVerifier(
  config: Pick<AppConfig, 'JWT_SECRET' | 'JWT_JWKS_URL' | 'JWT_ISSUER' | 'JWT_AUDIENCE'>,
  cacheOptions: VerifiedTokenCacheOptions = {},
): TokenVerifier {
  const jwks: JWTVerifyGetKey | null = config.JWT_JWKS_URL ? createRemoteJWKSet(new URL(config.JWT_JWKS_URL)) : null;
  const secret = config.JWT_SECRET ? new TextEncoder().encode(config.JWT_SECRET) : null;
  if (!jwks && !secret) throw new Error('token verifier: neither JWT_SECRET nor JWT_JWKS_URL is set');
  const options = {
    algorithms: jwks ? ['RS256', 'ES256'] : ['HS256'],
    requiredClaims: ['exp', 'sub'],
    ...(config.JWT_ISSUER ? { issuer: config.JWT_ISSUER } : {}),
    ...(config.JWT_AUDIENCE ? { audience: config.JWT_AUDIENCE } : {}),
  };

  const cache = new VerifiedTokenCache(cacheOptions);

  return async (token: string): Promise<Principal> => {
    const known = cache.get(token);
    if (known) return known;
    let payload: unknown;
    try {
      const result = jwks ? await jwtVerify(token, jwks, options) : await jwtVerify(token, secret as Uint8Array, options);
      payload = result.payload;
    } catch (e) {
      throw new AppError('UNAUTHENTICATED', describeJoseError(e));
    }
    const claims = ClaimsSchema.safeParse(payload);
    if (!claims.success) {
      const fields = [...new Set(claims.error.issues.map((i) => String(i.path[0] ?? 'claims')))].join(', ');
      throw new AppError('UNAUTHENTICATED', `token claims are missing or invalid: ${fields}`);
    }
    const principal: Principal = Object.freeze({
      sub: claims.data.sub,
      tenantId: claims.data.tenant_id,
      claimedRoles: Object.freeze([...claims.data.roles]),
      roles: effectiveRoles(claims.data.roles),
    });
    cache.set(token, principal, claims.data.exp, claims.data.nbf);
    return principal;
  };
}

function describeJoseError(e: unknown): string {
  if (e instanceof joseErrors.JWTExpired) return 'token has expired';
  if (e instanceof joseErrors.JWTClaimValidationFailed) return `token claim "${e.claim}" is not acceptable`;
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'token signature is invalid';
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return 'token algorithm is not allowed';
  return 'token is invalid';
}

/** The bearer token of an Authorization header, or null when there is none. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}
