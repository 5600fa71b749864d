import { SignJWT } from 'jose';
import { claimId } from './claimIds.js';
import { isPlanRole, PLAN_ROLES, type PlanRole } from './roles.js';

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

/** The longest development token: 30 days. */
export const DEV_TOKEN_MAX_TTL_SECONDS = 30 * 24 * 3600;

/** What a person asks a development token for (the CLI's flags, the IDE's form). */
export interface DevTokenRequest {
  tenantId: string;
  roles: PlanRole[];
  sub: string;
  ttlSeconds: number;
}

export type DevTokenRequestResult = { ok: true; request: DevTokenRequest } | { ok: false; problems: string[] };

/**
 * Checks a development token request against what the API accepts: known roles only (naming
 * the valid ones, with the closest as a suggestion), tenant and subject as the verifier wants
 * them, a bounded lifetime. Every problem is reported at once.
 */
export function parseDevTokenRequest(input: { tenant?: unknown; roles?: unknown; sub?: unknown; ttlSeconds?: unknown }): DevTokenRequestResult {
  const problems: string[] = [];
  const tenant = checkId('tenant', input.tenant, problems);
  const sub = checkId('sub', input.sub, problems);
  const roles = checkRoles(input.roles, problems);
  const ttl = input.ttlSeconds;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > DEV_TOKEN_MAX_TTL_SECONDS) {
    problems.push(`ttl: must be a whole number of seconds from 1 to ${DEV_TOKEN_MAX_TTL_SECONDS} (30 days)`);
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, request: { tenantId: tenant as string, sub: sub as string, roles, ttlSeconds: ttl as number } };
}

function checkId(name: string, value: unknown, problems: string[]): string | undefined {
  if (value === undefined || value === null || value === '') {
    problems.push(`${name}: is required`);
    return undefined;
  }
  const parsed = claimId.safeParse(value);
  if (!parsed.success) {
    problems.push(`${name}: ${parsed.error.issues.map((i) => (i.code === 'invalid_type' ? 'must be a string' : i.message)).join('; ')}`);
    return undefined;
  }
  return parsed.data;
}

function checkRoles(value: unknown, problems: string[]): PlanRole[] {
  const list = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : null;
  if (!list || list.some((r) => typeof r !== 'string')) {
    problems.push(`roles: must be a comma-separated list of ${PLAN_ROLES.join(', ')}`);
    return [];
  }
  const names = (list as string[]).map((r) => r.trim()).filter((r) => r !== '');
  if (names.length === 0) problems.push(`roles: name at least one of ${PLAN_ROLES.join(', ')}`);
  const roles: PlanRole[] = [];
  for (const name of names) {
    if (isPlanRole(name)) {
      if (!roles.includes(name)) roles.push(name);
      continue;
    }
    const closest = closestRole(name);
    problems.push(`roles: unknown role "${name}"${closest ? ` (did you mean ${closest}?)` : ''}; valid roles are ${PLAN_ROLES.join(', ')}`);
  }
  return roles;
}

/** The valid role within a small edit distance of a typo, if any. */
function closestRole(name: string): PlanRole | undefined {
  let best: PlanRole | undefined;
  let bestDistance = 4;
  for (const role of PLAN_ROLES) {
    const d = editDistance(name.toLowerCase(), role);
    if (d < bestDistance) {
      best = role;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
