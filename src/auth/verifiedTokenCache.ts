import type { Principal } from './principal.js';

// Verifying a JWT costs about 1.5 ms of CPU per request here (jose goes through WebCrypto),
// more than the rest of a plan read. Clients send the same token for many requests, so the
// verifier remembers what a token proved: keyed by the whole token string (a different
// signature is a different key, so nothing unverified is ever served from here), kept until
// the token expires or for `ttlMs` at most (so a key rotated out of a JWKS stops being
// honoured soon), bounded in size (least recently used goes first). Failures are never cached.

export interface VerifiedTokenCacheOptions {
  /** Tokens remembered at most (default 1000). 0 turns the cache off. */
  maxEntries?: number;
  /** How long a verification is trusted at most, even if the token lives longer (default 60 s). */
  ttlMs?: number;
  now?: () => number;
}

interface Entry {
  principal: Principal;
  /** Epoch ms after which the entry is not used. */
  validUntil: number;
  /** Epoch ms before which the token is not valid yet (its nbf), or 0. */
  notBefore: number;
}

export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: VerifiedTokenCacheOptions = {}) {
    this.maxEntries = Math.max(0, Math.floor(options.maxEntries ?? 1000));
    this.ttlMs = Math.max(0, options.ttlMs ?? 60_000);
    this.now = options.now ?? Date.now;
  }

  /** The principal a token proved, while it is still valid; null otherwise. */
  get(token: string): Principal | null {
    const entry = this.entries.get(token);
    if (!entry) return null;
    const now = this.now();
    if (now >= entry.validUntil || now < entry.notBefore) {
      this.entries.delete(token);
      return null;
    }
    // Re-insert: Map keeps insertion order, so the oldest key is the least recently used.
    this.entries.delete(token);
    this.entries.set(token, entry);
    return entry.principal;
  }

  /** Remembers a verified token; `expSeconds` and `nbfSeconds` are its exp and nbf claims. */
  set(token: string, principal: Principal, expSeconds: number, nbfSeconds?: number): void {
    if (this.maxEntries === 0) return;
    const validUntil = Math.min(expSeconds * 1000, this.now() + this.ttlMs);
    if (!(validUntil > this.now())) return;
    this.entries.delete(token);
    this.entries.set(token, { principal, validUntil, notBefore: typeof nbfSeconds === 'number' ? nbfSeconds * 1000 : 0 });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
