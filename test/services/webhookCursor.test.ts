import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import type { LedgerEntryRecord } from '../../src/domain/ledger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { parsePrivateKey } from '../../src/config/ledgerSigningKey.js';
import { CheckpointSigner, generateSigningKey } from '../../src/services/ledgerLog/checkpointSigner.js';
import { LedgerSealer } from '../../src/services/ledgerLog/LedgerSealer.js';
import { EndpointSecrets } from '../../src/services/webhooks/endpointSecrets.js';
import { SecretBox } from '../../src/services/webhooks/secretBox.js';
import { deliveryId, WebhookDispatcher } from '../../src/services/webhooks/WebhookDispatcher.js';
import { WebhookSender } from '../../src/services/webhooks/webhookSender.js';
import { ensureIndexes } from '../../src/store/indexes.js';
import { LedgerLogStore } from '../../src/store/ledgerLog/LedgerLogStore.js';
import { PlanLedger } from '../../src/store/PlanLedger.js';
import { WebhookStore, type WebhookEndpointRecord } from '../../src/store/webhooks/WebhookStore.js';
import { chainAppender } from '../support/ledgerAppends.js';
import { openTestDb, type TestDb } from '../support/testDb.js';

// The durable path's cursor against the real store: it creates exactly the deliveries the fast
// path did not store, reads a ledger entry only when one of its deliveries is missing, and
// leaves entries younger than the grace alone.

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const GRACE_MS = 2 * 1000 + 5000; // the dispatcher's claim time for a 1 s attempt deadline

describe('the webhook cursor', () => {
  let t: TestDb;
  let ledger: PlanLedger;
  let logStore: LedgerLogStore;
  let store: WebhookStore;
  const secrets = new EndpointSecrets(new SecretBox(randomBytes(32)));

  beforeAll(async () => {
    t = await openTestDb('whcursor');
    await ensureIndexes(t.db);
    ledger = new PlanLedger(t.db, { logger: quiet });
    logStore = new LedgerLogStore(t.db, { logger: quiet });
    store = new WebhookStore(t.db, { logger: quiet });
    await store.ensureIndexes();
  });
  afterAll(async () => {
    await t.close();
  });

  async function endpoint(tenant: string, eventTypes: string[], enabledAt: Date): Promise<WebhookEndpointRecord> {
    const id = `wh_${randomUUID()}`;
    const doc: WebhookEndpointRecord = { _id: id, tenant_id: tenant, url: 'http://127.0.0.1:9/hook', event_types: eventTypes, enabled: true, disabled_reason: null, created_at: enabledAt, enabled_at: enabledAt, secrets: [secrets.issue(id, enabledAt).stored], failing_since: null };
    await store.insertEndpoint(doc);
    return doc;
  }

  /** A dispatcher whose clock says `now()`, with a log whose entry reads are counted. */
  function dispatcherAt(now: () => Date, endpoints: readonly WebhookEndpointRecord[]) {
    const readKeys: string[] = [];
    const log = {
      readLeaves: logStore.readLeaves.bind(logStore),
      logSize: logStore.logSize.bind(logStore),
      readEntries: (tenantId: string, keys: readonly string[]) => {
        readKeys.push(...keys);
        return logStore.readEntries(tenantId, keys);
      },
    };
    const dispatcher = new WebhookDispatcher({ store, log, secrets, sender: new WebhookSender({ policy: { allowLoopback: true } }), metrics: createMetrics(), logger: quiet, retry: { baseMs: 100, maxDelayMs: 1000, retryForMs: 60_000 }, timeoutMs: 1000, concurrency: 4, pollIntervalMs: 100, now });
    for (const e of endpoints) dispatcher.endpointChanged(e);
    return { dispatcher, readKeys };
  }

  async function appendAndSeal(tenant: string, types: LedgerEntryRecord['event_type'][]): Promise<LedgerEntryRecord[]> {
    const append = chainAppender(ledger);
    const planId = randomUUID();
    const entries: LedgerEntryRecord[] = [];
    for (const [i, type] of types.entries()) entries.push(await append({ plan_id: planId, tenant_id: tenant, account_id: 'acc', event_type: type, actor: 'a', data: { i } }));
    const sealer = new LedgerSealer({ store: logStore, signer: new CheckpointSigner(parsePrivateKey(generateSigningKey())), logger: quiet, intervalMs: 100 });
    for (const e of entries) sealer.notify(e);
    expect(await sealer.sealAll()).toEqual({ sealed: entries.length });
    return entries;
  }

  it('creates only the missing deliveries, reading only the entries that lack one, then moves past them', async () => {
    const tenant = `t-${randomUUID()}`;
    const start = new Date(Date.now() - 60_000);
    const all = await endpoint(tenant, [], start);
    const approvals = await endpoint(tenant, ['PLAN_APPROVED'], start);
    await store.initCursor(tenant, 0);
    const entries = await appendAndSeal(tenant, ['PLAN_CREATED', 'PLAN_APPROVED', 'PLAN_CREATED', 'PLAN_APPROVED']);
    const [proposed, approved, unsent, halfSent] = entries as [LedgerEntryRecord, LedgerEntryRecord, LedgerEntryRecord, LedgerEntryRecord];
    // The fast path stored: `proposed` (its only subscriber), `approved` for both, `halfSent` for one of two.
    const later = new Date(Date.now() + GRACE_MS + 1000);
    const fastPath = (e: WebhookEndpointRecord, entry: LedgerEntryRecord) => ({ _id: deliveryId(e._id, entry.entry_id), tenant_id: tenant, endpoint_id: e._id, event_id: entry.entry_id, event_type: entry.event_type, status: 'DELIVERED' as const, attempts: 1, next_attempt_at: null, created_at: entry.timestamp, queued_at: entry.timestamp, event_at: entry.timestamp, last_status_code: 204, last_error: null, delivered_at: entry.timestamp });
    await store.insertDeliveries([fastPath(all, proposed), fastPath(all, approved), fastPath(approvals, approved), fastPath(all, halfSent)]);

    const { dispatcher, readKeys } = dispatcherAt(() => later, [all, approvals]);
    expect(await dispatcher.feedTenant(tenant)).toBe(2);
    // `proposed` lacks a delivery only to an endpoint that does not take it: read, nothing made.
    expect(new Set(readKeys)).toEqual(new Set([proposed.entry_id, unsent.entry_id, halfSent.entry_id]));
    const made = await t.db.collection('webhook_deliveries').find({ tenant_id: tenant, status: 'PENDING' }).toArray();
    expect(made.map((d) => d._id).sort()).toEqual([deliveryId(all._id, unsent.entry_id), deliveryId(approvals._id, halfSent.entry_id)].sort());
    expect(await store.cursor(tenant)).toBe(4);

    // Nothing new: the next round reads the cursor and one leaf, no entry.
    readKeys.length = 0;
    expect(await dispatcher.feedTenant(tenant)).toBe(0);
    expect(readKeys).toEqual([]);
  });

  it('leaves entries younger than the grace to their fast path, whether their deliveries are stored or not', async () => {
    const tenant = `t-${randomUUID()}`;
    const all = await endpoint(tenant, [], new Date(Date.now() - 60_000));
    await store.initCursor(tenant, 0);
    const [stored] = (await appendAndSeal(tenant, ['PLAN_CREATED'])) as [LedgerEntryRecord];
    await new Promise((resolve) => setTimeout(resolve, 60));
    const [missing] = (await appendAndSeal(tenant, ['PLAN_CREATED'])) as [LedgerEntryRecord];
    await store.insertDeliveries([{ _id: deliveryId(all._id, stored.entry_id), tenant_id: tenant, endpoint_id: all._id, event_id: stored.entry_id, event_type: stored.event_type, status: 'DELIVERED', attempts: 1, next_attempt_at: null, created_at: stored.timestamp, queued_at: stored.timestamp, event_at: stored.timestamp, last_status_code: 204, last_error: null, delivered_at: stored.timestamp }]);

    // The head's stored delivery says it is young: the round stops there, reading no entry.
    const soon = dispatcherAt(() => new Date(), [all]);
    expect(await soon.dispatcher.feedTenant(tenant)).toBe(0);
    expect(soon.readKeys).toEqual([]);
    expect(await store.cursor(tenant)).toBe(0);

    // Past the grace of the first only: the cursor passes it unread and stops at the second (read: it lacks its delivery).
    const between = dispatcherAt(() => new Date(stored.timestamp.getTime() + GRACE_MS + 10), [all]);
    expect(await between.dispatcher.feedTenant(tenant)).toBe(0);
    expect(between.readKeys).toEqual([missing.entry_id]);
    expect(await store.cursor(tenant)).toBe(1);

    const later = dispatcherAt(() => new Date(Date.now() + 60_000), [all]);
    expect(await later.dispatcher.feedTenant(tenant)).toBe(1);
    expect(await store.cursor(tenant)).toBe(2);
  });

  it('reads one stored delivery per entry when a count says every delivery is stored, and still stops at a young entry', async () => {
    const tenant = `t-${randomUUID()}`;
    const start = new Date(Date.now() - 60_000);
    const endpoints = [await endpoint(tenant, [], start), await endpoint(tenant, [], start), await endpoint(tenant, [], start)];
    await store.initCursor(tenant, 0);
    const old = await appendAndSeal(tenant, ['PLAN_CREATED', 'PLAN_APPROVED', 'PLAN_CREATED']);
    const [young] = (await appendAndSeal(tenant, ['PLAN_CREATED'])) as [LedgerEntryRecord];
    const sent = (e: WebhookEndpointRecord, entry: LedgerEntryRecord, at: Date) => ({ _id: deliveryId(e._id, entry.entry_id), tenant_id: tenant, endpoint_id: e._id, event_id: entry.entry_id, event_type: entry.event_type, status: 'DELIVERED' as const, attempts: 1, next_attempt_at: null, created_at: at, queued_at: at, event_at: at, last_status_code: 204, last_error: null, delivered_at: at });
    // The fast path stored every delivery; the last entry's say it is younger than the grace.
    const now = new Date(Date.now() + GRACE_MS + 1000);
    const oldAt = new Date(now.getTime() - GRACE_MS - 500);
    await store.insertDeliveries([...old.flatMap((entry) => endpoints.map((e) => sent(e, entry, oldAt))), ...endpoints.map((e) => sent(e, young, now))]);

    const asked: string[][] = [];
    const spy = jest.spyOn(store, 'storedDeliveryTimes').mockImplementation(async function (this: WebhookStore, tenantId, ids) {
      asked.push([...ids]);
      return WebhookStore.prototype.storedDeliveryTimes.call(this, tenantId, ids);
    });
    try {
      const { dispatcher, readKeys } = dispatcherAt(() => now, endpoints);
      expect(await dispatcher.feedTenant(tenant)).toBe(0);
      expect(readKeys).toEqual([]);
      expect(await store.cursor(tenant)).toBe(3);
      // The head's check, then the step's: one delivery (of the first endpoint) per leaf.
      expect(asked.at(-1)).toEqual([...old, young].map((entry) => deliveryId(endpoints[0]!._id, entry.entry_id)));
    } finally {
      spy.mockRestore();
    }

    // The count, as the driver's countDocuments sends it, is answered from the _id index (on
    // FerretDB in SQL: no document is read).
    const ids = [...old, young].flatMap((entry) => endpoints.map((e) => deliveryId(e._id, entry.entry_id)));
    const explained = (await t.db.command({ explain: { aggregate: 'webhook_deliveries', pipeline: [{ $match: { tenant_id: tenant, _id: { $in: ids } } }, { $group: { _id: 1, n: { $sum: 1 } } }], cursor: {} }, verbosity: 'queryPlanner' })) as Record<string, unknown>;
    if (typeof ((await t.db.admin().command({ buildInfo: 1 })) as Record<string, unknown>).ferretdbVersion === 'string') {
      expect(JSON.stringify(explained.queryPlanner)).toMatch(/SEARCH \S+ USING INDEX \S+__id_ /);
      expect(explained.countPushdown).toBe(true);
    }

    // One delivery missing: every stored one is read, the missing one made, the others not.
    const [next] = (await appendAndSeal(tenant, ['PLAN_CREATED'])) as [LedgerEntryRecord];
    await store.insertDeliveries(endpoints.slice(1).map((e) => sent(e, next, oldAt)));
    const later = dispatcherAt(() => new Date(Date.now() + 120_000), endpoints);
    expect(await later.dispatcher.feedTenant(tenant)).toBe(1);
    expect(later.readKeys).toEqual([next.entry_id]);
    expect(await store.cursor(tenant)).toBe(5);
    expect((await store.getDelivery(tenant, deliveryId(endpoints[0]!._id, next.entry_id)))?.status).toBe('PENDING');
  });
});
