import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Bottleneck from 'bottleneck';
import { LlmError, type LlmPlanClient } from './llmPlanClient.js';

// Every model call of the process goes through one limiter: calls start at most
// `requestsPerMinute` a minute, evenly spaced, their turns handed out by a priority queue
// (Bottleneck). A 429 (rate limited) holds every call back for a while (exponential back-off)
// and the call is tried again, a few times, before it fails like any other model failure (the
// generator then falls back to the rules). Background work (a proposal run's items) runs inside
// `asBackgroundWork`; waiting interactive calls get their turn first.

export interface RateLimitOptions {
  requestsPerMinute: number;
  /** Tries again after a 429, this many times. */
  maxRateLimitRetries?: number;
  /** The first back-off after a 429; doubled for each further one, up to maxBackoffMs. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

const background = new AsyncLocalStorage<true>();

/** Runs fn as background work: its model calls yield to interactive ones. */
export function asBackgroundWork<T>(fn: () => Promise<T>): Promise<T> {
  return background.run(true, fn);
}

const INTERACTIVE_PRIORITY = 3;
const BACKGROUND_PRIORITY = 7;

export interface RateLimitedLlmClient extends LlmPlanClient {
  /** Calls started so far and 429s answered (for tests and metrics). */
  stats(): { started: number; rateLimited: number };
  stop(): Promise<void>;
}

export function rateLimitLlmClient(client: LlmPlanClient, options: RateLimitOptions): RateLimitedLlmClient {
  const maxRetries = options.maxRateLimitRetries ?? 4;
  const baseBackoffMs = options.baseBackoffMs ?? 1000;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const interval = 60_000 / options.requestsPerMinute;
  // The gate hands out start times one call at a time, highest priority first; the call itself
  // runs outside it, so many can be in flight while starts stay `interval` apart.
  const gate = new Bottleneck({ maxConcurrent: 1 });
  let nextStart = 0;
  let started = 0;
  let rateLimited = 0;

  const turn = (priority: number) =>
    gate.schedule({ priority }, async () => {
      const now = Date.now();
      const at = Math.max(now, nextStart);
      nextStart = at + interval;
      if (at > now) await sleep(at - now);
    });

  return {
    model: client.model,
    async proposeSteps(request) {
      const priority = background.getStore() ? BACKGROUND_PRIORITY : INTERACTIVE_PRIORITY;
      for (let retry = 0; ; retry++) {
        await turn(priority);
        started += 1;
        try {
          return await client.proposeSteps(request);
        } catch (error) {
          if (!(error instanceof LlmError) || error.kind !== 'rate_limited' || retry >= maxRetries) throw error;
          rateLimited += 1;
          // Hold every call, not only this one: the quota is the key's, not the call's.
          const backoff = Math.min(maxBackoffMs, baseBackoffMs * 2 ** retry) * (0.8 + Math.random() * 0.4);
          nextStart = Math.max(nextStart, Date.now() + backoff);
        }
      }
    },
    stats: () => ({ started, rateLimited }),
    stop: async () => {
      await gate.stop({ dropWaitingJobs: true }).catch(() => undefined);
    },
  };
}
