import { SignJWT } from 'jose';

export interface DevTokenOptions {
  secret: string;
  tenantId: string;
  roles: readonly string[];
  sub: string;
  ttlSeconds: number;
  issuer?: string | undefined;
  audience?: string | undefined;
}

/** Signs an HS256 development token with the service's claims. */
export async function mintDevToken(o: DevTokenOptions): Promise<string> {
  let jwt = new SignJWT({ tenant_id: o.tenantId, roles: [...o.roles] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(o.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + o.ttlSeconds);
  if (o.issuer) jwt = jwt.setIssuer(o.issuer);
  if (o.audience) jwt = jwt.setAudience(o.audience);
  return jwt.sign(new TextEncoder().encode(o.secret));
}
