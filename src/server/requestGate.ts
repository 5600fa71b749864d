import type { Response } from 'express';
import { LRUCache } from 'lru-cache';
import pLimit, { type LimitFunction } from 'p-limit';

/** A request's slot: `charge` adds to its caller's pacing debt, paid before the caller's next request runs. */
export interface GateSlot {
  charge(ms: number): void;
}

interface CallerState {
  limit: LimitFunction;
  /** The caller's next request waits until then (its debt for costly or refused operations). */
  paidUntil: number;
}

/** The most debt a caller can run up: it waits at most this long. */
const MAX_DEBT_MS = 5000;

/**
 * Paces each caller (a token's tenant and subject, or an address without one) by what its
 * operations cost: an operation refused for its cost, or one running expensive fields, charges
 * the caller time that its next request waits out before it is parsed. Cheap operations cost
 * nothing, so bulk integrations keep their concurrency (up to `maxInFlight` per caller); a
 * client that keeps sending costly ones gets them run at a bounded rate however many it keeps
 * in flight, and the service's one event loop stays free for the other tenants.
 */
export class RequestGate {
  private readonly callers = new LRUCache<string, CallerState>({ max: 50_000 });

  constructor(private readonly maxInFlight: number) {}

  /** Resolves when the request may run (the caller's debt paid, a slot free); the slot is held until the response is closed. */
  admit(caller: string, res: Response): Promise<GateSlot> {
    let state = this.callers.get(caller);
    if (!state) {
      state = { limit: pLimit(this.maxInFlight), paidUntil: 0 };
      this.callers.set(caller, state);
    }
    const owner = state;
    const done = new Promise<void>((resolve) => {
      if (res.closed) resolve();
      else res.once('close', () => resolve());
    });
    const slot: GateSlot = {
      charge: (ms) => {
        if (ms > 0) owner.paidUntil = Math.min(Math.max(owner.paidUntil, Date.now()) + ms, Date.now() + MAX_DEBT_MS);
      },
    };
    return new Promise<GateSlot>((admitted) => {
      void owner.limit(async () => {
        for (let wait = owner.paidUntil - Date.now(); wait > 0 && !res.closed; wait = owner.paidUntil - Date.now()) {
          await new Promise((r) => setTimeout(r, wait));
        }
        admitted(slot);
        return done;
      });
    });
  }
}
