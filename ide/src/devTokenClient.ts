// The IDE's side of POST /ide/dev-token (development only; see src/server/ideRoute.ts).

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
