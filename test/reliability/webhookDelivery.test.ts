import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Db } from 'mongodb';
import { openTestDb, type TestDb } from '../support/testDb.js';
import { Figures, mapLimit, postGql, PROPOSE, SIGNALS, spawnServiceProcess, tokenFor, waitUntil, type ServiceProcess } from '../support/reliability.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhookReceiver.js';

/**
 * Webhooks survive SIGKILL and share work between instances. The service runs as its own
 * process (or two), a loopback receiver verifies every request with `standardwebhooks`:
 * - killed while deliveries are in flight (the receiver answers slowly), KILLS times during a
 *   burst of proposals, then restarted: every ledger entry of the tenant reaches the receiver
 *   (at least once), signed, and every delivery ends DELIVERED;
 * - two instances on one store, proposals spread over both, no kill: every entry arrives
 *   exactly once.
 */

const KILLS = 2;
const figures = new Figures('webhooks: SIGKILL mid-delivery, two instances');
const CREATE = 'mutation($url: String!) { createWebhookEndpoint(url: $url) { secret endpoint { endpointId } } }';

const serviceEnv = (testDb: TestDb): Record<string, string> => ({
  MONGODB_URI: testDb.uri,
  MONGODB_DB: testDb.dbName,
  WEBHOOK_ALLOW_LOOPBACK: 'true',
  WEBHOOK_TIMEOUT_MS: '1000',
  WEBHOOK_RETRY_BASE_MS: '100',
  WEBHOOK_POLL_INTERVAL_MS: '100',
  LEDGER_CHECKPOINT_INTERVAL_MS: '100',
});

async function entryIds(db: Db, tenant: string): Promise<string[]> {
  return (await db.collection('plan_ledger').find({ tenant_id: tenant }, { projection: { entry_id: 1 } }).toArray()).map((e) => e.entry_id as string);
}

async function createEndpoint(url: string, receiver: WebhookReceiver, tenant: string): Promise<void> {
  const res = await postGql<{ createWebhookEndpoint: { secret: string } }>(url, CREATE, { url: receiver.url }, { token: await tokenFor(tenant, ['plan-admin'], 'ada') });
  expect(res.errors).toBeUndefined();
  receiver.secrets.push(res.data?.createWebhookEndpoint.secret ?? '');
}

describe('reliability: webhooks', () => {
  let testDb: TestDb | undefined;
  const procs: ServiceProcess[] = [];
  const receivers: WebhookReceiver[] = [];

  beforeAll(async () => {
    testDb = await openTestDb('webhooks');
  }, 30_000);

  afterAll(async () => {
    figures.print();
    for (const p of procs) await p.stop();
    for (const r of receivers) await r.close();
    await testDb?.close();
  }, 60_000);

  it(
    'delivers every event at least once across SIGKILLs mid-delivery',
    async () => {
      const tenant = 'whcrash';
      const token = await tokenFor(tenant, ['plan-proposer'], 'sam');
      const receiver = await startWebhookReceiver();
      receivers.push(receiver);
      // Slow answers keep deliveries in flight when the kill comes.
      receiver.fault = () => ({ status: 200, delayMs: 40 });
      let counter = 0;
      for (let kill = 0; kill <= KILLS; kill++) {
        const service = await spawnServiceProcess(serviceEnv(testDb!));
        procs.push(service);
        if (kill === 0) await createEndpoint(service.url, receiver, tenant);
        if (kill === KILLS) {
          // The last start is not killed: it finishes what the killed ones left.
          await mapLimit(Array.from({ length: 20 }, (_, i) => i), 4, async () => {
            await postGql(service.url, PROPOSE, { input: { accountId: `acct-${counter++ % 23}`, planType: 'RENEWAL_DEFENSE', signals: SIGNALS } }, { token });
          });
          break;
        }
        const receivedAtStart = receiver.received.length;
        let stop = false;
        const burst = mapLimit(Array.from({ length: 2000 }, (_, i) => i), 8, async () => {
          if (stop) return;
          const res = await postGql(service.url, PROPOSE, { input: { accountId: `acct-${counter++ % 23}`, planType: 'RENEWAL_DEFENSE', signals: SIGNALS } }, { token, timeoutMs: 20_000 });
          figures.add(res.status === 0 ? 'proposals cut off by a kill' : 'proposals answered');
        });
        await waitUntil('deliveries under way', () => receiver.received.length - receivedAtStart >= 60, 60_000, 10);
        service.kill('SIGKILL');
        stop = true;
        await burst;
        expect((await service.exited).signal).toBe('SIGKILL');
        figures.add('SIGKILLs');
        // Entries whose delivery was not recorded DELIVERED when the process died: in flight, queued, or not yet begun.
        const entries = await testDb!.db.collection('plan_ledger').countDocuments({ tenant_id: tenant });
        const delivered = await testDb!.db.collection('webhook_deliveries').countDocuments({ tenant_id: tenant, status: 'DELIVERED' });
        figures.add('entries without a recorded delivery at a kill (sum)', entries - delivered);
      }
      const ids = await entryIds(testDb!.db, tenant);
      const took = await waitUntil('every entry delivered', () => ids.every((id) => receiver.deliveredIds().has(id)), 90_000, 200);
      figures.set('ledger entries', ids.length);
      figures.set('requests received', receiver.received.length);
      figures.set('entries delivered more than once (after a kill)', ids.filter((id) => receiver.received.filter((r) => r.id === id).length > 1).length);
      figures.set('ms from the last restart until all delivered', took);
      expect(figures.get('entries without a recorded delivery at a kill (sum)')).toBeGreaterThan(0);
      expect(receiver.unverified()).toEqual([]);
      // Everything the receiver got is one of the tenant's entries.
      expect(new Set(receiver.received.map((r) => r.id))).toEqual(new Set(ids));
      await waitUntil('every delivery recorded DELIVERED', async () => (await testDb!.db.collection('webhook_deliveries').countDocuments({ tenant_id: tenant, status: { $ne: 'DELIVERED' } })) === 0, 30_000, 200);
      expect(await testDb!.db.collection('webhook_deliveries').countDocuments({ tenant_id: tenant })).toBe(ids.length);
    },
    240_000,
  );

  it(
    'two instances deliver each event exactly once',
    async () => {
      const tenant = 'whtwo';
      const token = await tokenFor(tenant, ['plan-proposer'], 'sam');
      const receiver = await startWebhookReceiver();
      receivers.push(receiver);
      const [a, b] = [await spawnServiceProcess(serviceEnv(testDb!)), await spawnServiceProcess(serviceEnv(testDb!))] as [ServiceProcess, ServiceProcess];
      procs.push(a, b);
      await createEndpoint(a.url, receiver, tenant);
      await mapLimit(Array.from({ length: 160 }, (_, i) => i), 8, async (i) => {
        const res = await postGql(i % 2 === 0 ? a.url : b.url, PROPOSE, { input: { accountId: `acct-${i % 19}`, planType: 'RENEWAL_DEFENSE', signals: SIGNALS } }, { token });
        expect(res.status).toBe(200);
      });
      const ids = await entryIds(testDb!.db, tenant);
      await waitUntil('every entry delivered', () => ids.every((id) => receiver.deliveredIds().has(id)), 60_000, 100);
      // Both instances' rounds run a while longer: nothing more may arrive.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const perId = new Map<string, number>();
      for (const r of receiver.received) perId.set(r.id, (perId.get(r.id) ?? 0) + 1);
      figures.set('two instances: entries / requests', `${ids.length} / ${receiver.received.length}`);
      expect(receiver.unverified()).toEqual([]);
      expect([...perId.values()].filter((n) => n > 1)).toEqual([]);
      expect(receiver.received.length).toBe(ids.length);
    },
    180_000,
  );
});
