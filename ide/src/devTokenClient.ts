// The client side of /ide/dev-token (development only; see src/server/ideRoute.ts): the IDE's
// token bar and the dashboard's token panel mint through it.

export interface MintedToken {
  token: string;
  tenant: string;
  sub: string;
  roles: string[];
  expiresAt: string;
}

export type MintResult = { ok: true; minted: MintedToken } | { ok: false; message: string };

export async function mintToken(request: { tenant: string; sub: string; roles: string[] }): Promise<MintResult> {
  let res: Response;
  try {
    res = await fetch('/ide/dev-token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
  } catch {
    return { ok: false, message: 'the service is unreachable' };
  }
  const body = (await res.json().catch(() => null)) as (MintedToken & { problems?: string[]; message?: string }) | null;
  if (res.ok && body?.token) return { ok: true, minted: body };
  if (res.status === 404) return { ok: false, message: 'this service does not mint development tokens (production or JWKS): paste a token' };
  return { ok: false, message: body?.problems?.join('; ') ?? body?.message ?? `HTTP ${res.status}` };
}

/** The roles tokens can be minted for here, or null when this service mints none (production, JWKS, another machine). */
export async function devTokenRoles(): Promise<string[] | null> {
  try {
    const res = await fetch('/ide/dev-token', { headers: { accept: 'application/json' } });
    if (!res.ok) return null;
    const body = (await res.json()) as { roles?: unknown };
    return Array.isArray(body.roles) && body.roles.every((r) => typeof r === 'string') ? body.roles : null;
  } catch {
    return null;
  }
}
