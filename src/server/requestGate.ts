import type { Response } from 'express';
import { LRUCache } from 'lru-cache';
import pLimit, { type LimitFunction } from 'p-limit';

/** A request's slot: `holdAfter` keeps it for that long after the response (pacing a costly caller). */
export interface GateSlot {
  holdAfter(ms: number): void;
}

/**
 * Admits at most `perCaller` GraphQL requests of one caller (a token's tenant and subject, or
 * an address without one) into execution at a time; the caller's further requests wait, before
 * they are parsed, until one of its requests has answered (and its hold, if any, has passed).
 * The service runs on one event loop: a client keeping many requests in flight, cheap or
 * refused ones included, would otherwise interleave that many steps with every other tenant's
 * request; a hold after a costly or refused operation paces a caller that keeps sending them.
 */
/** The longest a slot is held after its response. */
const MAX_HOLD_MS = 2000;

export class RequestGate {
  private readonly callers = new LRUCache<string, LimitFunction>({ max: 50_000 });

  constructor(private readonly perCaller: number) {}

  /** Resolves when the request may run; its slot is held until its response is closed, plus any hold. */
  admit(caller: string, res: Response): Promise<GateSlot> {
    let limit = this.callers.get(caller);
    if (!limit) {
      limit = pLimit(this.perCaller);
      this.callers.set(caller, limit);
    }
    let hold = 0;
    const done = new Promise<void>((resolve) => {
      const release = () => (hold > 0 ? setTimeout(resolve, Math.min(hold, MAX_HOLD_MS)).unref() : resolve());
      if (res.closed) release();
      else res.once('close', release);
    });
    const slot: GateSlot = { holdAfter: (ms) => void (hold = Math.max(hold, ms)) };
    return new Promise<GateSlot>((admitted) => {
      void limit(() => {
        admitted(slot);
        return done;
      });
    });
  }

  /** Requests of the caller running or waiting. */
  load(caller: string): number {
    const limit = this.callers.get(caller);
    return limit ? limit.activeCount + limit.pendingCount : 0;
  }
}
