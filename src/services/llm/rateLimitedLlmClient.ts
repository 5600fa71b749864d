import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import PQueue from 'p-queue';
import { LlmError, type LlmPlanClient } from './llmPlanClient.js';

// Every model call of the process goes through one limiter: calls start at most
// `requestsPerMinute` a minute, evenly spaced, their turns handed out by a priority queue
// (p-queue: Bottleneck, used before, spent a timer turn on each bookkeeping step, one job after
// another, which added milliseconds to every turn). Background work (a proposal run's items,
// inside `asBackgroundWork`) waits its turn; after a 429 (rate limited) it holds every
// background call back for a while (exponential back-off) and tries again, a few times, before it
// fails like any other model failure (the generator then falls back to the rules). Interactive
// calls get their turn first and keep their request's time bound: they never wait longer than
// `interactiveMaxWaitMs` for a turn and are not tried again here (the client's own retry is
// theirs), so a request falls back (or answers LLM_UNAVAILABLE) in time.

export interface RateLimitOptions {
  requestsPerMinute: number;
  /** Tries again after a 429, this many times. */
  maxRateLimitRetries?: number;
  /** The first back-off after a 429; doubled for each further one, up to maxBackoffMs. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** The longest an interactive call waits for its turn (default: unbounded). */
  interactiveMaxWaitMs?: number;
}

const background = new AsyncLocalStorage<true>();

/** Runs fn as background work: its model calls yield to interactive ones. */
export function asBackgroundWork<T>(fn: () => Promise<T>): Promise<T> {
  return background.run(true, fn);
}

/** p-queue starts the highest priority first. */
const INTERACTIVE_PRIORITY = 1;
const BACKGROUND_PRIORITY = 0;

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
  const gate = new PQueue({ concurrency: 1 });
  /** Aborted by stop: calls still waiting for a turn are refused. */
  const stopped = new AbortController();
  let nextStart = 0;
  let started = 0;
  let rateLimited = 0;

  const interactiveMaxWaitMs = options.interactiveMaxWaitMs ?? Number.POSITIVE_INFINITY;
  /** Until when background calls hold back after a 429 (they wait outside the gate, so interactive calls are never stuck behind them). */
  let holdUntil = 0;
  /** Waits for the call's start time; false (and no slot taken) when it is further than maxWaitMs. */
  const turn = (priority: number, maxWaitMs: number) =>
    gate.add(
      async () => {
        const now = Date.now();
        const at = Math.max(now, nextStart);
        if (at - now > maxWaitMs) return false;
        nextStart = at + interval;
        if (at > now) await sleep(at - now);
        return true;
      },
      { priority, signal: stopped.signal },
    );

  return {
    model: client.model,
    async proposeSteps(request) {
      const inBackground = background.getStore() === true;
      const priority = inBackground ? BACKGROUND_PRIORITY : INTERACTIVE_PRIORITY;
      const retries = inBackground ? maxRetries : 0;
      for (let retry = 0; ; retry++) {
        if (inBackground) for (let now = Date.now(); now < holdUntil; now = Date.now()) await sleep(holdUntil - now);
        if (!(await turn(priority, inBackground ? Number.POSITIVE_INFINITY : interactiveMaxWaitMs))) {
          throw new LlmError('rate_limited', 'the model is rate limited: no turn within the request bound');
        }
        started += 1;
        try {
          return await client.proposeSteps(request);
        } catch (error) {
          if (!(error instanceof LlmError) || error.kind !== 'rate_limited') throw error;
          rateLimited += 1;
          if (retry >= retries) throw error;
          // Hold every background call, not only this one: the quota is the key's, not the call's.
          const backoff = Math.min(maxBackoffMs, baseBackoffMs * 2 ** retry) * (0.8 + Math.random() * 0.4);
          holdUntil = Math.max(holdUntil, Date.now() + backoff);
        }
      }
    },
    stats: () => ({ started, rateLimited }),
    stop: async () => {
      stopped.abort(new LlmError('rate_limited', 'the model client was stopped'));
      gate.clear();
      await gate.onIdle();
    },
  };
}
