import { LRUCache } from 'lru-cache';
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
  /** null when the cache is off (maxEntries 0). */
  private readonly entries: LRUCache<string, Entry> | null;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: VerifiedTokenCacheOptions = {}) {
    const maxEntries = Math.max(0, Math.floor(options.maxEntries ?? 1000));
    this.entries = maxEntries > 0 ? new LRUCache({ max: maxEntries }) : null;
    this.ttlMs = Math.max(0, options.ttlMs ?? 60_000);
    this.now = options.now ?? Date.now;
  }

  /** The principal a token proved, while it is still valid; null otherwise. */
  get(token: string): Principal | null {
    const entry = this.entries?.get(token);
    if (!entry) return null;
    const now = this.now();
    if (now >= entry.validUntil || now < entry.notBefore) {
      this.entries?.delete(token);
      return null;
    }
    return entry.principal;
  }

  /** Remembers a verified token; `expSeconds` and `nbfSeconds` are its exp and nbf claims. */
  set(token: string, principal: Principal, expSeconds: number, nbfSeconds?: number): void {
    if (!this.entries) return;
    const validUntil = Math.min(expSeconds * 1000, this.now() + this.ttlMs);
    if (!(validUntil > this.now())) return;
    this.entries.set(token, { principal, validUntil, notBefore: typeof nbfSeconds === 'number' ? nbfSeconds * 1000 : 0 });
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }
}
