import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Principal } from '../../auth/principal.js';
import { AppError } from '../../domain/errors.js';
import type { Page, PageArgs } from '../../domain/page.js';
import { urlProblem } from '../../domain/webhookAddress.js';
import { parseEventTypes, testWebhookBody, WEBHOOK_TEST_EVENT } from '../../domain/webhookEvent.js';
import { WEBHOOK_DELIVERY_STATUSES, type LedgerLogStore, type WebhookDeliveryRecord, type WebhookEndpointRecord, type WebhookStore } from '../../store/index.js';
import { IdSchema, parseInput } from '../plans/apiInputs.js';
import type { EndpointSecrets } from './endpointSecrets.js';
import { deliveryId, type WebhookDispatcher } from './WebhookDispatcher.js';
import { AddressRefused, type WebhookSender } from './webhookSender.js';

// A tenant's webhook endpoints and what was delivered to them (plan-admin). Every read and
// write is scoped to the caller's tenant: another tenant's endpoint or delivery is NOT_FOUND.

/** Endpoints per tenant at most. */
export const MAX_ENDPOINTS_PER_TENANT = 20;

export interface WebhookServiceOptions {
  store: WebhookStore;
  log: Pick<LedgerLogStore, 'logSize'>;
  secrets: EndpointSecrets;
  sender: Pick<WebhookSender, 'checkedAddresses'>;
  /** Null when this instance sends no webhooks (another one does). */
  dispatcher: WebhookDispatcher | null;
  requireHttps: boolean;
  allowLoopback: boolean;
  rotationOverlapMs: number;
  now?: () => Date;
}

export interface EndpointWithSecret {
  endpoint: WebhookEndpointRecord;
  /** whsec_…: shown once, here. */
  secret: string;
}

const CreateSchema = z.object({ url: z.string().min(1).max(2048), eventTypes: z.array(z.string().max(64)).max(64).nullish() });
const DeliveryFilterSchema = z.object({ endpointId: IdSchema.nullish(), status: z.enum(WEBHOOK_DELIVERY_STATUSES).nullish() });

export class WebhookService {
  private readonly now: () => Date;

  constructor(private readonly options: WebhookServiceOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async createEndpoint(principal: Principal, input: { url: string; eventTypes?: readonly string[] | null }): Promise<EndpointWithSecret> {
    const { url, eventTypes } = parseInput(CreateSchema, input, 'createWebhookEndpoint');
    const types = parseEventTypes(eventTypes);
    if (!types.ok) throw new AppError('BAD_USER_INPUT', `unknown event types: ${types.unknown.join(', ')}`, { unknownEventTypes: types.unknown });
    await this.checkUrl(url);
    const { store, log, secrets } = this.options;
    if ((await store.listEndpoints(principal.tenantId)).length >= MAX_ENDPOINTS_PER_TENANT) {
      throw new AppError('BAD_USER_INPUT', `a tenant has at most ${MAX_ENDPOINTS_PER_TENANT} webhook endpoints`);
    }
    // The tenant's cursor starts where the log is now, read before the endpoint's start time:
    // every entry stamped after that start is sealed at a later position (docs/webhooks.md).
    await store.initCursor(principal.tenantId, await log.logSize(principal.tenantId));
    const now = this.now();
    const endpointId = `whep_${randomUUID()}`;
    const issued = secrets.issue(endpointId, now);
    const endpoint: WebhookEndpointRecord = {
      _id: endpointId,
      tenant_id: principal.tenantId,
      url,
      event_types: types.types,
      enabled: true,
      disabled_reason: null,
      created_at: now,
      enabled_at: now,
      secrets: [issued.stored],
      failing_since: null,
    };
    await store.insertEndpoint(endpoint);
    this.options.dispatcher?.endpointChanged(endpoint);
    return { endpoint, secret: issued.secret };
  }

  async rotateSecret(principal: Principal, endpointId: string): Promise<EndpointWithSecret> {
    const endpoint = await this.endpointOf(principal, endpointId);
    const { secrets, secret } = this.options.secrets.rotate(endpoint, this.now(), this.options.rotationOverlapMs);
    const updated = await this.options.store.updateEndpoint(principal.tenantId, endpoint._id, { secrets });
    if (!updated) throw notFound();
    this.options.dispatcher?.endpointChanged(updated);
    return { endpoint: updated, secret };
  }

  async setEnabled(principal: Principal, endpointId: string, enabled: boolean): Promise<WebhookEndpointRecord> {
    const endpoint = await this.endpointOf(principal, endpointId);
    if (endpoint.enabled === enabled) return endpoint;
    const updated = await this.options.store.updateEndpoint(
      principal.tenantId,
      endpoint._id,
      enabled ? { enabled, disabled_reason: null, enabled_at: this.now(), failing_since: null } : { enabled, disabled_reason: `disabled by ${principal.sub}` },
    );
    if (!updated) throw notFound();
    this.options.dispatcher?.endpointChanged(updated);
    return updated;
  }

  /** Queues a `webhook.test` event to the endpoint (enabled or not) and returns its delivery. */
  async sendTest(principal: Principal, endpointId: string): Promise<WebhookDeliveryRecord> {
    const endpoint = await this.endpointOf(principal, endpointId);
    const now = this.now();
    const eventId = `test_${randomUUID()}`;
    const delivery: WebhookDeliveryRecord = {
      _id: deliveryId(endpoint._id, eventId),
      tenant_id: principal.tenantId,
      endpoint_id: endpoint._id,
      event_id: eventId,
      event_type: WEBHOOK_TEST_EVENT,
      body: testWebhookBody({ eventId, tenantId: principal.tenantId, endpointId: endpoint._id, at: now }),
      status: 'PENDING',
      attempts: 0,
      next_attempt_at: now,
      created_at: now,
      queued_at: now,
      event_at: now,
      last_status_code: null,
      last_error: null,
      delivered_at: null,
    };
    await this.options.store.insertDeliveries([delivery]);
    this.options.dispatcher?.kick();
    return delivery;
  }

  async redeliver(principal: Principal, id: string): Promise<WebhookDeliveryRecord> {
    const parsed = parseInput(IdSchema.max(256), id, 'deliveryId');
    const delivery = await this.options.store.requeue(principal.tenantId, parsed, this.now());
    if (!delivery) throw new AppError('NOT_FOUND', 'no such webhook delivery');
    this.options.dispatcher?.kick();
    return delivery;
  }

  /** Endpoints by id for the caller's tenant (null where none): Node lookups. */
  endpointsByIds(principal: Principal, ids: readonly string[]): Promise<(WebhookEndpointRecord | null)[]> {
    return this.options.store.endpointsByIds(principal.tenantId, ids);
  }

  /** Deliveries by id for the caller's tenant (null where none): Node lookups. */
  deliveriesByIds(principal: Principal, ids: readonly string[]): Promise<(WebhookDeliveryRecord | null)[]> {
    return this.options.store.deliveriesByIds(principal.tenantId, ids);
  }

  listEndpoints(principal: Principal): Promise<WebhookEndpointRecord[]> {
    return this.options.store.listEndpoints(principal.tenantId);
  }

  listDeliveries(principal: Principal, filter: { endpointId?: string | null; status?: string | null }, page: PageArgs): Promise<Page<WebhookDeliveryRecord>> {
    const parsed = parseInput(DeliveryFilterSchema, filter, 'webhookDeliveries');
    return this.options.store.listDeliveries(principal.tenantId, parsed, page);
  }

  private async endpointOf(principal: Principal, endpointId: string): Promise<WebhookEndpointRecord> {
    const id = parseInput(IdSchema, endpointId, 'endpointId');
    const endpoint = await this.options.store.getEndpoint(principal.tenantId, id);
    if (!endpoint) throw notFound();
    return endpoint;
  }

  /** The URL's form, then every address its name resolves to (checked again at each delivery). */
  private async checkUrl(url: string): Promise<void> {
    const { requireHttps, allowLoopback, sender } = this.options;
    const problem = urlProblem(url, { requireHttps, allowLoopback });
    if (problem) throw new AppError('BAD_USER_INPUT', `url ${problem}`);
    try {
      await sender.checkedAddresses(new URL(url).hostname);
    } catch (e) {
      if (e instanceof AddressRefused) throw new AppError('BAD_USER_INPUT', `url ${e.message}`);
      throw new AppError('BAD_USER_INPUT', 'url: its host name does not resolve');
    }
  }
}

const notFound = () => new AppError('NOT_FOUND', 'no such webhook endpoint');
