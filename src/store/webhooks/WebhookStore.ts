import { MongoBulkWriteError, type Collection, type Db, type Filter } from 'mongodb';
import type { Page, PageArgs } from '../../domain/page.js';
import { TimeIdCursorSchema, afterTimeId, clampPageSize, decodeCursor, toPage } from '../cursor.js';
import { InsertBatcher } from '../InsertBatcher.js';
import { acquireLease, releaseLease, type LeaseDoc } from '../leases.js';
import { consoleStoreLogger, isDuplicateKeyError, withStoreErrors, type StoreLogger } from '../mongoErrors.js';
import { WEBHOOK_COLLECTIONS, ensureWebhookIndexes } from './webhookIndexes.js';

// Webhook endpoints and deliveries (docs/webhooks.md has the protocol and its crash table).
// No transactions: a delivery's _id is <endpoint>.<event>, so creating it twice is one insert
// and one duplicate; an attempt is claimed by inserting <delivery>#<n>, so two instances never
// both own attempt n; every later change of a delivery is conditional on its attempt count and
// sets absolute values, so a repeated or racing update lands the same document.

export const WEBHOOK_DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'FAILED'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/** An endpoint secret as stored: sealed (encrypted), and when it stops signing (null: current). */
export interface SealedSecret {
  sealed: string;
  created_at: Date;
  retire_at: Date | null;
}

export interface WebhookEndpointRecord {
  _id: string;
  tenant_id: string;
  url: string;
  /** Ledger event types taken; empty: all. */
  event_types: string[];
  enabled: boolean;
  disabled_reason: string | null;
  created_at: Date;
  /** Events from this time on are delivered (creation, or the last time it was enabled). */
  enabled_at: Date;
  secrets: SealedSecret[];
  /** Since when every attempt to this endpoint has failed; null while it answers. */
  failing_since: Date | null;
}

export interface WebhookDeliveryRecord {
  _id: string;
  tenant_id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  /**
   * The envelope's JSON text (test events only): a ledger event's is rebuilt from its entry at
   * each attempt, so the store keeps no second copy of every entry.
   */
  body?: string;
  status: WebhookDeliveryStatus;
  /** Attempts made (or abandoned by an instance that died). */
  attempts: number;
  next_attempt_at: Date | null;
  created_at: Date;
  /** When it was queued (or queued again by redeliverWebhook): retries stop a retry period after. */
  queued_at: Date;
  /** The event's own time (lag is measured from it). */
  event_at: Date;
  last_status_code: number | null;
  last_error: string | null;
  /** The first failed attempt since it was queued (null until one fails). */
  failing_from?: Date | null;
  delivered_at: Date | null;
}

interface AttemptClaim {
  _id: string;
  delivery_id: string;
  holder: string;
  expires_at: Date;
}

interface CursorDoc {
  _id: string;
  next_index: number;
}

export interface DeliveryFilter {
  endpointId?: string | null;
  status?: WebhookDeliveryStatus | null;
}

const DeliveryCursorSchema = TimeIdCursorSchema('whd');
/**
 * The fast path's outcomes wait this long for others to share their insert: the POST is made
 * already, so only the record waits (the durable path covers a crash meanwhile), and a few large
 * commands cost the store much less than many small ones.
 */
const RECORD_LINGER_MS = 100;
const RECORD_BATCH = 500;

export class WebhookStore {
  private readonly endpoints: Collection<WebhookEndpointRecord>;
  private readonly deliveries: Collection<WebhookDeliveryRecord>;
  private readonly attempts: Collection<AttemptClaim>;
  private readonly cursors: Collection<CursorDoc>;
  private readonly leases: Collection<LeaseDoc>;
  private readonly logger: StoreLogger;
  /** The fast path's deliveries, inserted in groups (one command, one commit on FerretDB). */
  private readonly recorded: InsertBatcher<WebhookDeliveryRecord>;

  constructor(
    private readonly db: Db,
    options: { logger?: StoreLogger } = {},
  ) {
    this.endpoints = db.collection(WEBHOOK_COLLECTIONS.endpoints);
    this.deliveries = db.collection(WEBHOOK_COLLECTIONS.deliveries);
    this.attempts = db.collection(WEBHOOK_COLLECTIONS.attempts);
    this.cursors = db.collection(WEBHOOK_COLLECTIONS.cursors);
    this.leases = db.collection(WEBHOOK_COLLECTIONS.leases);
    this.logger = options.logger ?? consoleStoreLogger;
    this.recorded = new InsertBatcher(this.deliveries, { maxBatch: RECORD_BATCH, lingerMs: RECORD_LINGER_MS });
  }

  ensureIndexes(): Promise<void> {
    return ensureWebhookIndexes(this.db);
  }

  // --- endpoints ----------------------------------------------------------------------------

  async insertEndpoint(doc: WebhookEndpointRecord): Promise<void> {
    await withStoreErrors(this.logger, 'webhooks.insertEndpoint', () => this.endpoints.insertOne(doc));
  }

  async getEndpoint(tenantId: string, endpointId: string): Promise<WebhookEndpointRecord | null> {
    return withStoreErrors(this.logger, 'webhooks.getEndpoint', () => this.endpoints.findOne({ tenant_id: tenantId, _id: endpointId }));
  }

  /** A tenant's endpoints by id, in the order asked; null where absent (one query). */
  async endpointsByIds(tenantId: string, ids: readonly string[]): Promise<(WebhookEndpointRecord | null)[]> {
    return withStoreErrors(this.logger, 'webhooks.endpointsByIds', async () => {
      const docs = await this.endpoints.find({ tenant_id: tenantId, _id: { $in: [...new Set(ids)] } }).toArray();
      const byId = new Map(docs.map((d) => [d._id, d]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  async listEndpoints(tenantId: string): Promise<WebhookEndpointRecord[]> {
    return withStoreErrors(this.logger, 'webhooks.listEndpoints', () => this.endpoints.find({ tenant_id: tenantId }).sort({ created_at: 1 }).toArray());
  }

  /** Every enabled endpoint of every tenant: the dispatcher's subscriptions. */
  async listEnabledEndpoints(): Promise<WebhookEndpointRecord[]> {
    return withStoreErrors(this.logger, 'webhooks.listEnabledEndpoints', () => this.endpoints.find({ enabled: true }).toArray());
  }

  /** Sets fields of a tenant's endpoint; the endpoint after, or null when it is not the tenant's. */
  async updateEndpoint(tenantId: string, endpointId: string, set: Partial<Omit<WebhookEndpointRecord, '_id' | 'tenant_id'>>): Promise<WebhookEndpointRecord | null> {
    return withStoreErrors(this.logger, 'webhooks.updateEndpoint', () =>
      this.endpoints.findOneAndUpdate({ tenant_id: tenantId, _id: endpointId }, { $set: set }, { returnDocument: 'after' }),
    );
  }

  /** Records that the endpoint started failing at `at`, unless it already was. */
  async markFailing(tenantId: string, endpointId: string, at: Date): Promise<void> {
    await withStoreErrors(this.logger, 'webhooks.markFailing', () => this.endpoints.updateOne({ tenant_id: tenantId, _id: endpointId, failing_since: null }, { $set: { failing_since: at } }));
  }

  async clearFailing(tenantId: string, endpointId: string): Promise<void> {
    await withStoreErrors(this.logger, 'webhooks.clearFailing', () => this.endpoints.updateOne({ tenant_id: tenantId, _id: endpointId, failing_since: { $ne: null } }, { $set: { failing_since: null } }));
  }

  // --- deliveries ---------------------------------------------------------------------------

  /** Inserts the deliveries not stored yet; returns the ids this call inserted (others: duplicates). */
  async insertDeliveries(docs: readonly WebhookDeliveryRecord[]): Promise<Set<string>> {
    if (docs.length === 0) return new Set();
    return withStoreErrors(this.logger, 'webhooks.insertDeliveries', async () => {
      try {
        await this.deliveries.insertMany(docs as WebhookDeliveryRecord[], { ordered: false });
        return new Set(docs.map((d) => d._id));
      } catch (e) {
        if (!(e instanceof MongoBulkWriteError)) throw e;
        const errors = Array.isArray(e.writeErrors) ? e.writeErrors : [e.writeErrors];
        if (errors.some((w) => !isDuplicateKeyError(w))) throw e;
        const failed = new Set(errors.map((w) => w.index));
        return new Set(docs.filter((_, i) => !failed.has(i)).map((d) => d._id));
      }
    });
  }

  /**
   * Stores a delivery with its first attempt's outcome (the fast path); concurrent calls go to
   * the store together. False when a delivery with its id is stored already.
   */
  async recordDelivery(doc: WebhookDeliveryRecord): Promise<boolean> {
    return withStoreErrors(this.logger, 'webhooks.recordDelivery', async () => {
      try {
        await this.recorded.insert(doc);
        return true;
      } catch (e) {
        if (isDuplicateKeyError(e)) return false;
        throw e;
      }
    });
  }

  /** Which of these delivery ids are stored, each with its event's time (one query). */
  async storedDeliveryTimes(tenantId: string, ids: readonly string[]): Promise<Map<string, Date>> {
    if (ids.length === 0) return new Map();
    return withStoreErrors(this.logger, 'webhooks.storedDeliveryTimes', async () => {
      const docs = await this.deliveries.find({ tenant_id: tenantId, _id: { $in: [...ids] } }, { projection: { _id: 1, event_at: 1 } }).toArray();
      return new Map(docs.map((d) => [d._id, d.event_at]));
    });
  }

  /**
   * Whether every one of these deliveries is stored: a count, which the embedded store answers
   * from the `_id` index without reading a document (about a tenth of the cost of reading them).
   */
  async allDeliveriesStored(tenantId: string, ids: readonly string[]): Promise<boolean> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return true;
    return withStoreErrors(this.logger, 'webhooks.allDeliveriesStored', async () => (await this.deliveries.countDocuments({ tenant_id: tenantId, _id: { $in: unique } })) === unique.length);
  }

  /** A tenant's deliveries by id, in the order asked; null where absent (one query). */
  async deliveriesByIds(tenantId: string, ids: readonly string[]): Promise<(WebhookDeliveryRecord | null)[]> {
    return withStoreErrors(this.logger, 'webhooks.deliveriesByIds', async () => {
      const docs = await this.deliveries.find({ tenant_id: tenantId, _id: { $in: [...new Set(ids)] } }, { projection: { body: 0 } }).toArray();
      const byId = new Map(docs.map((d) => [d._id, d]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  async getDelivery(tenantId: string, deliveryId: string): Promise<WebhookDeliveryRecord | null> {
    return withStoreErrors(this.logger, 'webhooks.getDelivery', () => this.deliveries.findOne({ tenant_id: tenantId, _id: deliveryId }));
  }

  /** A tenant's deliveries, newest first. */
  async listDeliveries(tenantId: string, filter: DeliveryFilter, page: PageArgs): Promise<Page<WebhookDeliveryRecord>> {
    const size = clampPageSize(page.first);
    const after = page.after ? decodeCursor(page.after, DeliveryCursorSchema) : null;
    const base: Filter<WebhookDeliveryRecord> = { tenant_id: tenantId };
    if (filter.endpointId) base.endpoint_id = filter.endpointId;
    if (filter.status) base.status = filter.status;
    return withStoreErrors(this.logger, 'webhooks.listDeliveries', async () => {
      const docs = await this.deliveries
        .find(afterTimeId(base, 'created_at', after), { projection: { body: 0 } })
        .sort({ created_at: -1, _id: -1 })
        .limit(size + 1)
        .toArray();
      return toPage(docs, size, (d) => ({ k: 'whd', t: d.created_at.getTime(), id: d._id }));
    });
  }

  /** Pending deliveries due by `now` (any tenant), oldest due first, skipping busy endpoints. */
  async dueDeliveries(now: Date, skipEndpoints: readonly string[], limit: number): Promise<WebhookDeliveryRecord[]> {
    return withStoreErrors(this.logger, 'webhooks.dueDeliveries', () => {
      const filter: Filter<WebhookDeliveryRecord> = { status: 'PENDING', next_attempt_at: { $lte: now } };
      if (skipEndpoints.length > 0) filter.endpoint_id = { $nin: [...skipEndpoints] };
      return this.deliveries.find(filter).sort({ next_attempt_at: 1 }).limit(limit).toArray();
    });
  }

  /**
   * Records an attempt's outcome: only while the delivery still counts `expectedAttempts`
   * (an instance that outlived its claim does not overwrite a later attempt). True when applied.
   */
  async recordAttempt(deliveryId: string, expectedAttempts: number, set: Partial<WebhookDeliveryRecord>): Promise<boolean> {
    return withStoreErrors(this.logger, 'webhooks.recordAttempt', async () => {
      const res = await this.deliveries.updateOne({ _id: deliveryId, attempts: expectedAttempts }, { $set: set });
      return res.matchedCount === 1;
    });
  }

  /** Queues a delivery again from now (redeliverWebhook); the delivery after, or null when not the tenant's. */
  async requeue(tenantId: string, deliveryId: string, now: Date): Promise<WebhookDeliveryRecord | null> {
    return withStoreErrors(this.logger, 'webhooks.requeue', () =>
      this.deliveries.findOneAndUpdate(
        { tenant_id: tenantId, _id: deliveryId },
        { $set: { status: 'PENDING', next_attempt_at: now, queued_at: now, failing_from: null } },
        { returnDocument: 'after' },
      ),
    );
  }

  // --- attempt claims -----------------------------------------------------------------------

  /** Claims attempt `n` of a delivery for `holder` until `expires`: true when this call took it. */
  async claimAttempt(deliveryId: string, n: number, holder: string, expires: Date): Promise<boolean> {
    return withStoreErrors(this.logger, 'webhooks.claimAttempt', async () => {
      try {
        await this.attempts.insertOne({ _id: `${deliveryId}#${n}`, delivery_id: deliveryId, holder, expires_at: expires });
        return true;
      } catch (e) {
        if (isDuplicateKeyError(e)) return false;
        throw e;
      }
    });
  }

  /** Until when attempt `n` is claimed, or null when nobody claimed it. */
  async claimExpiry(deliveryId: string, n: number): Promise<Date | null> {
    return withStoreErrors(this.logger, 'webhooks.claimExpiry', async () => (await this.attempts.findOne({ _id: `${deliveryId}#${n}` }))?.expires_at ?? null);
  }

  // --- the per-tenant cursor over the Merkle log --------------------------------------------

  async cursor(tenantId: string): Promise<number | null> {
    return withStoreErrors(this.logger, 'webhooks.cursor', async () => (await this.cursors.findOne({ _id: tenantId }))?.next_index ?? null);
  }

  /** Starts a tenant's cursor at `index` unless it has one. */
  async initCursor(tenantId: string, index: number): Promise<void> {
    await withStoreErrors(this.logger, 'webhooks.initCursor', async () => {
      try {
        await this.cursors.insertOne({ _id: tenantId, next_index: index });
      } catch (e) {
        if (!isDuplicateKeyError(e)) throw e;
      }
    });
  }

  /** Moves the cursor forward from `from` to `to`; false when it was not at `from` (another instance moved it). */
  async advanceCursor(tenantId: string, from: number, to: number): Promise<boolean> {
    return withStoreErrors(this.logger, 'webhooks.advanceCursor', async () => (await this.cursors.updateOne({ _id: tenantId, next_index: from }, { $set: { next_index: to } })).matchedCount === 1);
  }

  // --- leases (keep instances from doing the same cursor work; correctness does not rest on them) ---

  async acquireLease(key: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    return withStoreErrors(this.logger, 'webhooks.lease', () => acquireLease(this.leases, key, holder, now, ttlMs));
  }

  async releaseLease(key: string, holder: string): Promise<void> {
    await withStoreErrors(this.logger, 'webhooks.releaseLease', () => releaseLease(this.leases, key, holder));
  }
}
