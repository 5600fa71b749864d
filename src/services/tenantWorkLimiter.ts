import { LRUCache } from 'lru-cache';
import pLimit, { type LimitFunction } from 'p-limit';

/** Work whose cost grows with a tenant's data: it gets the signal of the callers still waiting for it. */
export type TenantWork<T> = (signal: AbortSignal) => Promise<T>;

interface SharedJob {
  promise: Promise<unknown>;
  /** Aborted when every caller that asked for the job has gone. */
  controller: AbortController;
  waiting: number;
}

/**
 * Keeps one tenant's expensive reads (verification, statistics over all its data) from taking
 * the service from everyone else:
 * - identical concurrent requests (same tenant, same key) run the work once and share its answer;
 * - a tenant's distinct jobs run one at a time, and at most `overall` run across tenants;
 * - the work is aborted when every caller waiting for it has gone (the client closed the request).
 */
export class TenantWorkLimiter {
  private readonly perTenant = new LRUCache<string, LimitFunction>({ max: 10_000 });
  private readonly overall: LimitFunction;
  private readonly shared = new Map<string, SharedJob>();

  constructor(options: { overall?: number } = {}) {
    this.overall = pLimit(options.overall ?? 2);
  }

  run<T>(tenantId: string, key: string, work: TenantWork<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    const id = `${tenantId.length}:${tenantId}/${key}`;
    let job = this.shared.get(id);
    // A job every caller left is being stopped: a new caller starts it afresh.
    if (!job || job.controller.signal.aborted) {
      const controller = new AbortController();
      const promise = this.queueFor(tenantId)(() => {
        controller.signal.throwIfAborted();
        return this.overall(() => {
          controller.signal.throwIfAborted();
          return work(controller.signal);
        });
      }).finally(() => {
        if (this.shared.get(id) === created) this.shared.delete(id);
      });
      const created: SharedJob = { promise, controller, waiting: 0 };
      job = created;
      this.shared.set(id, job);
    }
    return this.join(job, signal) as Promise<T>;
  }

  /** Jobs of the tenant waiting or running (for tests and metrics). */
  pending(tenantId: string): number {
    const queue = this.perTenant.get(tenantId);
    return queue ? queue.activeCount + queue.pendingCount : 0;
  }

  private queueFor(tenantId: string): LimitFunction {
    let queue = this.perTenant.get(tenantId);
    if (!queue) {
      queue = pLimit(1);
      this.perTenant.set(tenantId, queue);
    }
    return queue;
  }

  /** The job's answer for one caller; the caller leaving early stops waiting (and the job, if it was the last). */
  private join(job: SharedJob, signal: AbortSignal | undefined): Promise<unknown> {
    job.waiting += 1;
    if (!signal) return job.promise;
    return new Promise((resolve, reject) => {
      const leave = () => {
        job.waiting -= 1;
        if (job.waiting === 0) job.controller.abort(signal.reason);
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', leave, { once: true });
      job.promise.then(
        (value) => {
          signal.removeEventListener('abort', leave);
          resolve(value);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', leave);
          reject(e as Error);
        },
      );
    });
  }
}
