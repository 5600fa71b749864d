import { isAppError } from '../../domain/errors.js';
import type { PlanView, RevenuePlanV1 } from '../../domain/plan.js';
import type { Store } from '../../store/index.js';
import { EXPIRING_STATUSES, isDueToExpire } from '../../domain/activationDecision.js';
import { repeat, type Repeating } from '../../runtime/repeat.js';

/** The actor recorded on a PLAN_EXPIRED event: the service itself, not whoever looked. */
export const EXPIRY_ACTOR = 'system:expiry';

/** What made the service notice: someone reading or moving the plan, or the periodic sweep. */
export type ExpiryCause = { trigger: 'expired_on_read'; touchedBy: string } | { trigger: 'expired_by_sweep' };

interface Deps {
  store: Store;
  clock?: () => Date;
  logger?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

/**
 * Moves APPROVED and ACTIVE plans past their expires_at to EXPIRED, through the store's
 * transition protocol (commit, then complete: docs/store.md): on read (expireIfDue), so nobody
 * ever sees one, and in a periodic sweep (sweep/start), so one nobody reads does not hold its account's
 * active slot. Two at once for the same plan write one event: the store's conditional write
 * lets one win, and the loser reads what won.
 */
export class PlanExpiry {
  private readonly clock: () => Date;

  constructor(private readonly deps: Deps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  /** The plan as it is now: EXPIRED, with its PLAN_EXPIRED event, when it was due. */
  async expireIfDue<P extends PlanView>(plan: P, cause: ExpiryCause): Promise<P | RevenuePlanV1> {
    let current: P | RevenuePlanV1 = plan;
    // Bounded: each CONFLICT means the plan moved meanwhile; a plan moves out of APPROVED or ACTIVE at most twice.
    for (let attempt = 0; attempt < 3 && isDueToExpire(current, this.clock()); attempt++) {
      const from = current.plan_status;
      try {
        return await this.deps.store.transition({
          tenantId: current.tenant_id,
          planId: current.plan_id,
          from,
          to: 'EXPIRED',
          fields: { expired_at: this.clock() },
          event: {
            event_type: 'PLAN_EXPIRED',
            actor: EXPIRY_ACTOR,
            data: {
              from,
              to: 'EXPIRED',
              trigger: cause.trigger,
              ...(cause.trigger === 'expired_on_read' ? { touched_by: cause.touchedBy } : {}),
              expires_at: current.expires_at.toISOString(),
            },
          },
        });
      } catch (e) {
        // Someone moved it first (expired it, or paused or aborted it): read what won.
        if (!isAppError(e) || e.code !== 'CONFLICT') throw e;
        const reread = await this.deps.store.getPlanRepaired(current.tenant_id, current.plan_id);
        /* istanbul ignore next -- plans are never deleted */
        if (!reread) return current;
        current = reread;
      }
    }
    return current;
  }

  /** expireIfDue() for a page of plans; only due ones cost a write. */
  expireEachIfDue<P extends PlanView>(plans: readonly P[], cause: ExpiryCause): Promise<(P | RevenuePlanV1)[]> {
    const now = this.clock();
    return Promise.all(plans.map((p) => (isDueToExpire(p, now) ? this.expireIfDue(p, cause) : p)));
  }

  /** Expires up to `limit` due plans of any tenant; returns how many it found due and left EXPIRED. A failure is logged and left for next time. */
  async sweep(limit = 500): Promise<number> {
    const due = await this.deps.store.plans.findExpiredIn(EXPIRING_STATUSES, this.clock(), limit);
    let expired = 0;
    for (const { tenant_id, plan_id } of due) {
      try {
        const plan = await this.deps.store.getPlanRepaired(tenant_id, plan_id);
        if (!plan || !isDueToExpire(plan, this.clock())) continue;
        if ((await this.expireIfDue(plan, { trigger: 'expired_by_sweep' })).plan_status === 'EXPIRED') expired += 1;
      } catch (e) {
        this.deps.logger?.error({ tenant_id, plan_id, err: String(e) }, 'expiring a plan failed; the next sweep retries');
      }
    }
    return expired;
  }

  /** Runs sweep() every intervalMs until stop(), which waits for a sweep under way (the timer does not hold the process). */
  start(options: { intervalMs: number }): Repeating {
    return repeat(() => this.sweep(), { intervalMs: options.intervalMs, onError: (e) => this.deps.logger?.warn({ err: String(e) }, 'expiry sweep failed; will retry') });
  }
}
