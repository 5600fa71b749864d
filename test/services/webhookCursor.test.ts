import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
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
});
