import { randomUUID } from 'node:crypto';
import type { LedgerEntryRecord } from '../../domain/ledger.js';
import { ledgerEntryWebhookBody, takesEvent, WEBHOOK_TEST_EVENT } from '../../domain/webhookEvent.js';
import { nextAttemptAt, type RetryPolicy } from '../../domain/webhookRetry.js';
import type { AppMetrics } from '../../observability/metrics.js';
import type { LedgerLogStore, WebhookDeliveryRecord, WebhookEndpointRecord, WebhookStore } from '../../store/index.js';
import type { EndpointSecrets } from './endpointSecrets.js';
import type { WebhookSender } from './webhookSender.js';
import { signWebhook } from './webhookSigning.js';

// Sends webhooks, off the request path, at least once (docs/webhooks.md, "Delivery"):
// - fast path: the ledger tells the dispatcher of each entry it appends (onAppended); the
//   dispatcher sends it at once to each subscribed endpoint with a free slot, then stores the
//   delivery (_id <endpoint>.<entry>) with its outcome, in one insert with others (the store
//   lets outcomes wait up to 100 ms for each other);
// - durable path: per tenant, a cursor over the tenant's Merkle log (a total order the sealer
//   writes) turns every sealed entry older than the fast path's grace into its deliveries
//   where none is stored (a crash, a store error, an endpoint this instance did not know yet),
//   then moves forward; it reads an entry only when one of its deliveries is missing;
// - retries: due deliveries are claimed attempt by attempt (inserting <delivery>#<n>), sent,
//   and their outcome recorded conditionally on the attempt count.
// Each endpoint has a bounded number of attempts in flight per instance, each with a deadline,
// so a slow endpoint only delays its own deliveries.

export interface WebhookDispatcherOptions {
  store: WebhookStore;
  log: Pick<LedgerLogStore, 'readLeaves' | 'readEntries' | 'logSize'>;
  secrets: EndpointSecrets;
  sender: WebhookSender;
  metrics: AppMetrics;
  logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  retry: RetryPolicy;
  timeoutMs: number;
  /** Attempts in flight per endpoint (this instance). */
  concurrency: number;
  pollIntervalMs: number;
  now?: () => Date;
  random?: () => number;
}

/** Leaves read per cursor step, and steps per tenant per round at most. */
const FEED_BATCH = 200;
const FEED_STEPS = 20;
/** Due deliveries claimed per round at most. */
const DUE_BATCH = 200;
/** Fast-path entries handled per turn at most. */
const FLUSH_BATCH = 500;
/** How long a fast-path delivery waits in memory for a free slot before it is stored for the rounds. */
const QUEUED_MAX_MS = 1000;
/** Fast-path deliveries waiting in memory per endpoint at most (the rest are stored at once). */
const QUEUED_MAX = 1000;

/** A fast-path delivery waiting in memory for a free slot of its endpoint. */
interface Queued {
  delivery: WebhookDeliveryRecord;
  body: string;
  endpoint: WebhookEndpointRecord;
  since: number;
}

type Logger = WebhookDispatcherOptions['logger'];
/** A sealed leaf of a tenant's Merkle log. */
type Leaf = NonNullable<Awaited<ReturnType<LedgerLogStore['readLeaves']>>[number]>;

export class WebhookDispatcher {
  private readonly holder = `webhooks-${randomUUID()}`;
  private readonly now: () => Date;
  private readonly random: () => number;
  /** Enabled endpoints by tenant, refreshed every round and on this instance's changes. */
  private byTenant = new Map<string, WebhookEndpointRecord[]>();
  private readonly inFlight = new Map<string, number>();
  /** Deliveries this instance is attempting now (not looked at again by its own rounds). */
  private readonly attempting = new Set<string>();
  /** Endpoints with stored deliveries that found no free slot: a finished attempt there looks for them. */
  private readonly starved = new Set<string>();
  /** Fast-path deliveries waiting for a slot, per endpoint, oldest first. */
  private readonly queued = new Map<string, Queued[]>();
  private readonly running = new Set<Promise<void>>();
  private queue: LedgerEntryRecord[] = [];
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private kicked = false;
  private stopped = false;
  private readonly claimTtlMs: number;
  private readonly logger: Logger;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.logger = options.logger;
    // A claim must outlast the attempt it covers (its deadline) with room to record the outcome;
    // the durable path leaves an entry this long to the fast path of the instance that appended it.
    this.claimTtlMs = options.timeoutMs * 2 + 5000;
  }

  /** Called for every entry the ledger appends (or finds stored on a retry); never waits. */
  notify(entry: LedgerEntryRecord): void {
    if (this.stopped || !this.byTenant.has(entry.tenant_id)) return;
    this.queue.push(entry);
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
  }

  /** This instance created, changed or re-enabled an endpoint: use it from now on. */
  endpointChanged(endpoint: WebhookEndpointRecord): void {
    const others = (this.byTenant.get(endpoint.tenant_id) ?? []).filter((e) => e._id !== endpoint._id);
    const list = endpoint.enabled ? [...others, endpoint] : others;
    if (list.length > 0) this.byTenant.set(endpoint.tenant_id, list);
    else this.byTenant.delete(endpoint.tenant_id);
  }

  /** Looks for due deliveries now (a new test event, a redelivery, a freed slot). */
  kick(): void {
    if (this.stopped) return;
    if (this.round) {
      this.kicked = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.schedule(0);
  }

  async start(): Promise<void> {
    try {
      await this.refreshEndpoints();
    } catch (e) {
      this.logger.warn({ err: e }, 'reading webhook endpoints failed; will retry');
    }
    this.schedule(0);
  }

  /** Stops looking for work and waits (bounded by the attempt deadline) for attempts in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.round;
    await this.flushing;
    // What waits in memory is stored, so the next instance sends it without waiting for the grace.
    await this.spillQueued(Number.POSITIVE_INFINITY).catch((e: unknown) => this.logger.warn({ err: e }, 'storing queued webhook deliveries at stop failed; the durable path will create them'));
    await Promise.all(this.running);
    this.options.sender.close();
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.round = this.runRound()
        .catch((e: unknown) => this.logger.warn({ err: e }, 'webhook round failed; will retry'))
        .then(() => {
          this.round = null;
          const again = this.kicked;
          this.kicked = false;
          this.schedule(again ? 0 : this.options.pollIntervalMs);
        });
    }, delay);
    this.timer.unref();
  }

  private lastRefresh = 0;
  private lastFeed = 0;

  /**
   * One round: endpoints and the tenants' cursors (at most once per poll interval), then due
   * deliveries (also when kicked: a slot freed for deliveries that waited for one).
   */
  async runRound(force = false): Promise<void> {
    await this.spillQueued(QUEUED_MAX_MS);
    if (force || Date.now() - this.lastRefresh >= this.options.pollIntervalMs) await this.refreshEndpoints();
    if (force || Date.now() - this.lastFeed >= this.options.pollIntervalMs) {
      this.lastFeed = Date.now();
      await this.feedAll();
    }
    await this.claimDue();
  }

  private async refreshEndpoints(): Promise<void> {
    const byTenant = new Map<string, WebhookEndpointRecord[]>();
    for (const endpoint of await this.options.store.listEnabledEndpoints()) {
      const list = byTenant.get(endpoint.tenant_id) ?? [];
      list.push(endpoint);
      byTenant.set(endpoint.tenant_id, list);
    }
    this.byTenant = byTenant;
    this.lastRefresh = Date.now();
  }

  // --- fast path ------------------------------------------------------------------------------

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.stopped) {
        const batch = this.queue.splice(0, FLUSH_BATCH);
        const now = this.now();
        const overflow: WebhookDeliveryRecord[] = [];
        for (const entry of batch) {
          const subscribers = this.subscribers(entry);
          if (subscribers.length === 0) continue;
          const body = ledgerEntryWebhookBody(entry);
          for (const endpoint of subscribers) {
            const delivery = deliveryOf(endpoint, entry, now);
            // Sent here and now when the endpoint has room; else it waits a little in memory,
            // then is stored for the rounds to send.
            const waiting = this.queued.get(endpoint._id);
            if (!waiting && this.reserve(endpoint._id)) this.track(this.attempt(delivery, 1, endpoint, body, false));
            else if (!waiting) this.queued.set(endpoint._id, [{ delivery, body, endpoint, since: Date.now() }]);
            else if (waiting.length < QUEUED_MAX) waiting.push({ delivery, body, endpoint, since: Date.now() });
            else overflow.push(delivery);
          }
        }
        await this.store(overflow);
      }
    } finally {
      this.flushing = null;
      if (this.queue.length > 0 && !this.stopped) this.flushing = Promise.resolve().then(() => this.flush());
    }
  }

  /** Stores fast-path deliveries for the rounds; on failure the durable path creates them later. */
  private async store(deliveries: WebhookDeliveryRecord[]): Promise<void> {
    if (deliveries.length === 0) return;
    try {
      await this.options.store.insertDeliveries(deliveries);
    } catch (e) {
      this.logger.warn({ err: e, deliveries: deliveries.length }, 'storing webhook deliveries failed; the durable path will create them');
    }
  }

  /** Stores the deliveries that waited in memory longer than `olderThanMs`. */
  private async spillQueued(olderThanMs: number): Promise<void> {
    const cutoff = Date.now() - olderThanMs;
    const spilled: WebhookDeliveryRecord[] = [];
    for (const [endpointId, waiting] of this.queued) {
      const keep = Number.isFinite(olderThanMs) ? waiting.filter((q) => q.since > cutoff) : [];
      for (const q of waiting) if (!keep.includes(q)) spilled.push(q.delivery);
      if (keep.length > 0) this.queued.set(endpointId, keep);
      else this.queued.delete(endpointId);
    }
    await this.store(spilled);
  }

  /** A slot of the endpoint freed: the next delivery waiting in memory for it goes. */
  private nextQueued(endpointId: string): void {
    const waiting = this.queued.get(endpointId);
    if (!waiting || waiting.length === 0 || this.stopped) return;
    if (!this.reserve(endpointId)) return;
    const next = waiting.shift() as Queued;
    if (waiting.length === 0) this.queued.delete(endpointId);
    this.track(this.attempt(next.delivery, 1, next.endpoint, next.body, false));
  }

  private subscribers(entry: LedgerEntryRecord): WebhookEndpointRecord[] {
    return (this.byTenant.get(entry.tenant_id) ?? []).filter((e) => e.enabled && takesEvent(e.event_types, entry.event_type) && entry.timestamp >= e.enabled_at);
  }

  // --- durable path: the tenants' cursors over their Merkle logs ----------------------------

  private async feedAll(): Promise<void> {
    for (const tenantId of [...this.byTenant.keys()]) {
      if (this.stopped) return;
      try {
        await this.feedTenant(tenantId);
      } catch (e) {
        this.logger.warn({ err: e, tenant_id: tenantId }, 'webhook cursor step failed; will retry');
      }
    }
  }

  /** Turns the tenant's sealed entries past its cursor into deliveries, then moves the cursor. */
  async feedTenant(tenantId: string): Promise<number> {
    const { store, log } = this.options;
    // Most rounds find nothing to do: one read of the cursor, one of the leaf at it and its
    // deliveries (an entry younger than the grace waits), no lease.
    const at = await store.cursor(tenantId);
    if (at === null) {
      // Endpoint creation starts the cursor first; this covers a store written before that.
      await store.initCursor(tenantId, await log.logSize(tenantId));
      return 0;
    }
    const head = (await log.readLeaves(tenantId, [at]))[0];
    if (!head || (await this.headIsYoung(tenantId, head))) return 0;
    const lease = `feed:${tenantId}`;
    if (!(await store.acquireLease(lease, this.holder, this.now(), Math.max(5000, this.options.pollIntervalMs * 5)))) return 0;
    let created = 0;
    try {
      let from = (await store.cursor(tenantId)) ?? at;
      for (let step = 0; step < FEED_STEPS && !this.stopped; step++) {
        const leaves = await log.readLeaves(tenantId, Array.from({ length: FEED_BATCH }, (_, i) => from + i));
        const gap = leaves.findIndex((l) => l === null);
        const sealed = (gap === -1 ? leaves : leaves.slice(0, gap)).filter((l) => l !== null);
        if (sealed.length === 0) break;
        const { ready, docs } = await this.feedStep(tenantId, sealed);
        const inserted = await store.insertDeliveries(docs);
        created += inserted.size;
        if (ready === 0 || !(await store.advanceCursor(tenantId, from, from + ready))) break;
        from += ready;
        if (ready < FEED_BATCH) break;
      }
      if (created > 0) {
        this.logger.info({ tenant_id: tenantId, created }, 'webhook deliveries created from the ledger log (their fast path did not run)');
        this.kicked = true;
      }
      return created;
    } finally {
      await store.releaseLease(lease, this.holder).catch(() => undefined);
    }
  }

  /**
   * One cursor step over sealed leaves, in log order: how many of them are done (`ready`) and
   * the deliveries to create for them. Which deliveries are stored is asked first
   * (`storedDeliveries`, with the event's time): an entry older than the grace whose every
   * delivery is stored (the fast path's usual outcome) is done without reading it, so entries
   * are read only where a delivery is missing. The step ends before the first entry younger
   * than the grace: it may still be in its fast path (on any instance), and an endpoint created
   * meanwhile on another instance may not be known here yet.
   */
  private async feedStep(tenantId: string, sealed: readonly Leaf[]): Promise<{ ready: number; docs: WebhookDeliveryRecord[] }> {
    const { log } = this.options;
    const endpoints = this.byTenant.get(tenantId) ?? [];
    const idsOf = (leaf: Leaf) => endpoints.map((e) => deliveryId(e._id, leaf.entry_id));
    const stored = await this.storedDeliveries(tenantId, sealed, endpoints);
    const now = this.now();
    const young = (at: Date) => at.getTime() > now.getTime() - this.claimTtlMs;
    const knownTime = (leaf: Leaf) => idsOf(leaf).reduce<Date | undefined>((t, id) => t ?? stored.get(id), undefined);
    const firstYoung = sealed.findIndex((l) => {
      const at = knownTime(l);
      return at !== undefined && young(at);
    });
    const window = firstYoung === -1 ? sealed : sealed.slice(0, firstYoung);
    const lacking = window.filter((l) => knownTime(l) === undefined || idsOf(l).some((id) => !stored.has(id)));
    const read = lacking.length === 0 ? [] : await log.readEntries(tenantId, lacking.map((l) => l.entry_key));
    const entryOf = new Map(lacking.map((l, i) => [l, read[i] ?? null]));
    const docs: WebhookDeliveryRecord[] = [];
    let ready = 0;
    for (const leaf of window) {
      // Not in entryOf: every delivery of this old entry is stored.
      const entry = entryOf.get(leaf);
      if (entry !== undefined && !entry?.ok) {
        this.logger.error({ tenant_id: tenantId, leaf: leaf.index }, 'a sealed ledger entry is missing or unreadable; no webhook for it');
      } else if (entry !== undefined) {
        if (young(entry.record.timestamp)) break;
        for (const endpoint of this.subscribers(entry.record)) {
          if (!stored.has(deliveryId(endpoint._id, entry.record.entry_id))) docs.push(deliveryOf(endpoint, entry.record, now));
        }
      }
      ready += 1;
    }
    return { ready, docs };
  }

  /**
   * The stored deliveries of these leaves' entries, each with its event's time. Usually the fast
   * path stored them all: a count (no document read) says so, and one delivery per entry gives
   * the entry's time, so a step reads one document per entry instead of one per endpoint (the
   * embedded store's cost is per document read). Otherwise every stored one is read, to find
   * which are missing.
   */
  private async storedDeliveries(tenantId: string, sealed: readonly Leaf[], endpoints: readonly WebhookEndpointRecord[]): Promise<Map<string, Date>> {
    const { store } = this.options;
    const ids = sealed.flatMap((leaf) => endpoints.map((e) => deliveryId(e._id, leaf.entry_id)));
    const [witness] = endpoints;
    if (!witness || endpoints.length === 1 || !(await store.allDeliveriesStored(tenantId, ids))) return store.storedDeliveryTimes(tenantId, ids);
    const times = await store.storedDeliveryTimes(tenantId, sealed.map((leaf) => deliveryId(witness._id, leaf.entry_id)));
    const stored = new Map<string, Date>();
    for (const leaf of sealed) {
      const at = times.get(deliveryId(witness._id, leaf.entry_id));
      // Deliveries are never deleted, so each witness is there; were one not, its entry would be read.
      if (at) for (const e of endpoints) stored.set(deliveryId(e._id, leaf.entry_id), at);
    }
    return stored;
  }

  /** Whether the entry at this leaf is known (from a stored delivery) to be younger than the grace: nothing to do yet. */
  private async headIsYoung(tenantId: string, leaf: Leaf): Promise<boolean> {
    const endpoints = this.byTenant.get(tenantId) ?? [];
    const stored = await this.options.store.storedDeliveryTimes(tenantId, endpoints.map((e) => deliveryId(e._id, leaf.entry_id)));
    const at = [...stored.values()][0];
    return at !== undefined && at.getTime() > this.now().getTime() - this.claimTtlMs;
  }

  // --- due deliveries: retries, and what the fast path left -----------------------------------

  private async claimDue(): Promise<void> {
    const { store } = this.options;
    const busy = [...this.inFlight.entries()].filter(([, n]) => n >= this.options.concurrency).map(([id]) => id);
    const now = this.now();
    const due = await store.dueDeliveries(now, busy, DUE_BATCH);
    for (const delivery of due) {
      if (this.stopped) return;
      if (this.attempting.has(delivery._id) || !this.reserve(delivery.endpoint_id)) continue;
      let started = false;
      try {
        started = await this.claimAndAttempt(delivery, now);
      } catch (e) {
        this.logger.warn({ err: e, delivery_id: delivery._id }, 'claiming a webhook delivery failed; will retry');
      } finally {
        if (!started) this.release(delivery.endpoint_id);
      }
    }
  }

  /** Claims the delivery's next attempt and starts it; false when it is someone else's (or was abandoned, now recorded). */
  private async claimAndAttempt(delivery: WebhookDeliveryRecord, now: Date): Promise<boolean> {
    const { store, metrics } = this.options;
    const n = delivery.attempts + 1;
    if (await store.claimAttempt(delivery._id, n, this.holder, new Date(now.getTime() + this.claimTtlMs))) {
      this.track(this.attempt(delivery, n, null, null, true));
      return true;
    }
    const expires = await store.claimExpiry(delivery._id, n);
    // Its instance stopped mid-attempt: that attempt counts as failed; the next round retries.
    if (expires && expires < now && (await store.recordAttempt(delivery._id, delivery.attempts, { attempts: n, last_error: 'attempt abandoned: its instance stopped', next_attempt_at: now }))) {
      metrics.webhookAttempts.inc({ outcome: 'abandoned' });
      this.kicked = true;
    }
    return false;
  }

  // --- one attempt ----------------------------------------------------------------------------

  private track(p: Promise<void>): void {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  private reserve(endpointId: string): boolean {
    const n = this.inFlight.get(endpointId) ?? 0;
    if (n >= this.options.concurrency) {
      this.starved.add(endpointId);
      return false;
    }
    this.inFlight.set(endpointId, n + 1);
    return true;
  }

  private release(endpointId: string): void {
    const n = (this.inFlight.get(endpointId) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(endpointId);
    else this.inFlight.set(endpointId, n);
  }

  /**
   * Sends attempt `n` and records its outcome: on the stored delivery (attempt n claimed by this
   * instance), or, for the fast path's first attempt (`stored` false), by inserting the delivery
   * with it; should the durable path have stored it meanwhile, its first attempt is recorded.
   */
  private async attempt(delivery: WebhookDeliveryRecord, n: number, known: WebhookEndpointRecord | null, knownBody: string | null, stored: boolean): Promise<void> {
    const { store, metrics, sender, secrets, retry } = this.options;
    let slotHeld = true;
    const releaseSlot = () => {
      if (!slotHeld) return;
      slotHeld = false;
      this.release(delivery.endpoint_id);
      this.nextQueued(delivery.endpoint_id);
      if (this.starved.delete(delivery.endpoint_id)) this.kick();
    };
    const record = async (set: Partial<WebhookDeliveryRecord>): Promise<boolean> => {
      if (stored) return store.recordAttempt(delivery._id, n - 1, set);
      if (await store.recordDelivery({ ...delivery, ...set })) return true;
      // The durable path stored it meanwhile (not attempted yet): this was its first attempt.
      return store.recordAttempt(delivery._id, 0, set);
    };
    this.attempting.add(delivery._id);
    try {
      const endpoint = known ?? (await store.getEndpoint(delivery.tenant_id, delivery.endpoint_id));
      // A test event goes to a disabled endpoint too: that is how a receiver is checked before enabling it.
      if (!endpoint || (!endpoint.enabled && delivery.event_type !== WEBHOOK_TEST_EVENT)) {
        await record({ status: 'FAILED', attempts: n, next_attempt_at: null, last_error: endpoint ? 'endpoint disabled' : 'endpoint deleted' });
        metrics.webhookAttempts.inc({ outcome: 'failed' });
        return;
      }
      const body = knownBody ?? delivery.body ?? (await this.entryBody(delivery));
      if (body === null) {
        await record({ status: 'FAILED', attempts: n, next_attempt_at: null, last_error: 'the ledger entry is missing or unreadable' });
        metrics.webhookAttempts.inc({ outcome: 'failed' });
        return;
      }
      const at = this.now();
      const headers = signWebhook(secrets.signingKeys(endpoint, at), delivery.event_id, at, body);
      const result = await sender.send(endpoint.url, body, { ...headers }, this.options.timeoutMs);
      // The endpoint's slot is for talking to it; recording the outcome is the store's business.
      releaseSlot();
      const now = this.now();
      if (result.ok) {
        const recorded = await record({ status: 'DELIVERED', attempts: n, delivered_at: now, next_attempt_at: null, last_status_code: result.statusCode, last_error: null });
        metrics.webhookAttempts.inc({ outcome: 'delivered' });
        if (recorded && delivery.event_type !== WEBHOOK_TEST_EVENT) metrics.webhookLag.observe((now.getTime() - delivery.event_at.getTime()) / 1000);
        if (endpoint.failing_since) {
          await store.clearFailing(endpoint.tenant_id, endpoint._id);
          endpoint.failing_since = null;
        }
        return;
      }
      const next = nextAttemptAt(n, delivery.queued_at, now, retry, this.random());
      const failingFrom = delivery.failing_from ?? now;
      await record({ status: next ? 'PENDING' : 'FAILED', attempts: n, next_attempt_at: next, last_status_code: result.statusCode, last_error: result.error, failing_from: failingFrom });
      metrics.webhookAttempts.inc({ outcome: next ? 'retry' : 'failed' });
      await this.noteFailure(endpoint, now, next === null ? failingFrom : null);
    } catch (e) {
      // Unrecorded: a stored delivery's claim runs out and the attempt counts as abandoned; a
      // fast-path one is created by the durable path after the grace. Either way it is sent again.
      this.logger.warn({ err: e, delivery_id: delivery._id }, 'webhook attempt failed before its outcome was recorded');
    } finally {
      this.attempting.delete(delivery._id);
      releaseSlot();
    }
  }

  /** The envelope of a stored ledger delivery, rebuilt from its entry (event id = the entry's key). */
  private async entryBody(delivery: WebhookDeliveryRecord): Promise<string | null> {
    const [stored] = await this.options.log.readEntries(delivery.tenant_id, [delivery.event_id]);
    return stored?.ok ? ledgerEntryWebhookBody(stored.record) : null;
  }

  /**
   * An endpoint that has failed for the whole retry period is disabled, with the reason: every
   * attempt failed for that long, or a delivery was given up with no success in between
   * (`gaveUpFailingFrom`: the given-up delivery's first failure).
   */
  private async noteFailure(endpoint: WebhookEndpointRecord, now: Date, gaveUpFailingFrom: Date | null): Promise<void> {
    const { store, retry, metrics } = this.options;
    if (!endpoint.failing_since) {
      await store.markFailing(endpoint.tenant_id, endpoint._id, now);
      endpoint.failing_since = now;
      if (!gaveUpFailingFrom) return;
    }
    const failingLongEnough = now.getTime() - endpoint.failing_since.getTime() >= retry.retryForMs;
    const gaveUpWithoutSuccess = gaveUpFailingFrom !== null && endpoint.failing_since <= gaveUpFailingFrom;
    if (!failingLongEnough && !gaveUpWithoutSuccess) return;
    const reason = `every delivery failed from ${endpoint.failing_since.toISOString()} to ${now.toISOString()}`;
    const updated = await store.updateEndpoint(endpoint.tenant_id, endpoint._id, { enabled: false, disabled_reason: reason });
    if (updated) this.endpointChanged(updated);
    endpoint.enabled = false;
    metrics.webhookEndpointsDisabled.inc();
    this.logger.warn({ tenant_id: endpoint.tenant_id, endpoint_id: endpoint._id, reason }, 'webhook endpoint disabled');
  }
}

/** The delivery of `entry` to `endpoint`, not attempted yet (its envelope is rebuilt from the entry). */
function deliveryOf(endpoint: WebhookEndpointRecord, entry: LedgerEntryRecord, now: Date): WebhookDeliveryRecord {
  return {
    _id: deliveryId(endpoint._id, entry.entry_id),
    tenant_id: endpoint.tenant_id,
    endpoint_id: endpoint._id,
    event_id: entry.entry_id,
    event_type: entry.event_type,
    status: 'PENDING',
    attempts: 0,
    next_attempt_at: now,
    created_at: now,
    queued_at: now,
    event_at: entry.timestamp,
    last_status_code: null,
    last_error: null,
    delivered_at: null,
  };
}

/** A delivery's id: one per (endpoint, event), so creating it twice stores it once. */
export const deliveryId = (endpointId: string, eventId: string): string => `${endpointId}.${eventId}`;
