import { AsyncLocalStorage } from 'node:async_hooks';
import Bottleneck from 'bottleneck';
import { LlmError, type LlmPlanClient } from './llmPlanClient.js';

// Every model call of the process goes through one limiter (Bottleneck): calls start at most
// `requestsPerMinute` a minute, evenly spaced. An answer 429 (rate limited) holds every call
// back for a while (exponential back-off) and the call is tried again, a few times, before it
// fails like any other model failure (the generator then falls back to the rules). Background
// work (a proposal run's items) waits behind interactive calls: it runs inside
// `asBackgroundWork`, and the limiter starts interactive calls first.

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
  const limiter = new Bottleneck({ minTime: Math.ceil(60_000 / options.requestsPerMinute) });
  let started = 0;
  let rateLimited = 0;
  let holdUntil = 0;
  let hold: NodeJS.Timeout | undefined;

  limiter.on('failed', (error: unknown, job: { retryCount: number }) => {
    if (!(error instanceof LlmError) || error.kind !== 'rate_limited' || job.retryCount >= maxRetries) return undefined;
    rateLimited += 1;
    const backoff = Math.min(maxBackoffMs, baseBackoffMs * 2 ** job.retryCount) * (0.8 + Math.random() * 0.4);
    // Hold every call, not only this one: the quota is the key's, not the call's.
    const until = Date.now() + backoff;
    if (until > holdUntil) {
      holdUntil = until;
      void limiter.updateSettings({ reservoir: 0 });
      clearTimeout(hold);
      hold = setTimeout(() => void limiter.updateSettings({ reservoir: null }), backoff);
      hold.unref();
    }
    return backoff;
  });

  return {
    model: client.model,
    proposeSteps(request) {
      const priority = background.getStore() ? BACKGROUND_PRIORITY : INTERACTIVE_PRIORITY;
      return limiter.schedule({ priority }, () => {
        started += 1;
        return client.proposeSteps(request);
      });
    },
    stats: () => ({ started, rateLimited }),
    stop: async () => {
      clearTimeout(hold);
      await limiter.stop({ dropWaitingJobs: true }).catch(() => undefined);
    },
  };
}
