import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { PROPOSE, SIGNALS, TRANSITIONS, waitUntil } from '../support/reliability.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhookReceiver.js';

// Signed webhooks through the API against the real store: a loopback receiver verifies every
// request with the `standardwebhooks` library. Endpoints, the shape and signature of what is
// delivered, rotation, the event-type filter, tenant isolation, retries through injected
// faults, a hanging endpoint beside a healthy one, test events, the delivery list and redelivery.

const CREATE = `mutation($url: String!, $types: [String!]) { createWebhookEndpoint(url: $url, eventTypes: $types) {
  secret endpoint { endpointId url eventTypes enabled disabledReason createdAt } } }`;
const ROTATE = 'mutation($id: ID!) { rotateWebhookSecret(endpointId: $id) { secret endpoint { endpointId } } }';
const ENABLE = 'mutation($id: ID!, $on: Boolean!) { setWebhookEndpointEnabled(endpointId: $id, enabled: $on) { endpointId enabled disabledReason } }';
const TEST = 'mutation($id: ID!) { sendTestWebhook(endpointId: $id) { deliveryId eventId eventType status } }';
const REDELIVER = 'mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { deliveryId eventId status } }';
const ENDPOINTS = '{ webhookEndpoints { endpointId url eventTypes enabled } }';
const DELIVERIES = `query($e: ID, $s: WebhookDeliveryStatus, $first: Int, $after: String) { webhookDeliveries(endpointId: $e, status: $s, first: $first, after: $after) {
  edges { cursor node { deliveryId endpointId eventId eventType status attempts lastStatusCode lastError nextAttemptAt deliveredAt } } pageInfo { hasNextPage endCursor } } }`;
const FEED = 'query($p: ID) { planLedger(first: 500, filter: { planId: $p }) { edges { node { entryId planId tenantId accountId eventType timestamp seq actor data prevHash hash } } } }';

interface Created {
  secret: string;
  endpoint: { endpointId: string; url: string; eventTypes: string[]; enabled: boolean };
}
interface Delivery {
  deliveryId: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
}

describe('signed webhooks API', () => {
  let server: TestServer;
  const receivers: WebhookReceiver[] = [];
  const tokens: Record<string, { admin: string; actor: string; viewer: string }> = {};

  const tokensOf = async (tenant: string) =>
    (tokens[tenant] ??= {
      admin: await server.token(tenant, ['plan-admin'], 'ada'),
      actor: await server.token(tenant, ['plan-proposer', 'plan-approver'], 'pat'),
      viewer: await server.token(tenant, ['plan-viewer'], 'vic'),
    });

  const ok = async <T>(query: string, variables: Record<string, unknown>, token: string): Promise<T> => {
    const res = await server.gql<T>(query, variables, token);
    expect(res.errors).toBeUndefined();
    return res.data as T;
  };
  const codeOf = async (query: string, variables: Record<string, unknown>, token: string) => (await server.gql(query, variables, token)).errors?.[0]?.extensions?.code;

  const receiver = async () => {
    const r = await startWebhookReceiver();
    receivers.push(r);
    return r;
  };
  const createEndpoint = async (tenant: string, r: WebhookReceiver, types?: string[]) => {
    const { createWebhookEndpoint } = await ok<{ createWebhookEndpoint: Created }>(CREATE, { url: r.url, types }, (await tokensOf(tenant)).admin);
    r.secrets.push(createWebhookEndpoint.secret);
    return createWebhookEndpoint;
  };
  const propose = async (tenant: string, account: string) =>
    (await ok<{ proposePlan: { plan: { planId: string } } }>(PROPOSE, { input: { accountId: account, planType: 'RENEWAL_DEFENSE', signals: SIGNALS } }, (await tokensOf(tenant)).actor)).proposePlan.plan.planId;
  const approve = async (tenant: string, planId: string) => expect((await ok<{ r: { ok: boolean } }>(TRANSITIONS.approve, { planId }, (await tokensOf(tenant)).actor)).r.ok).toBe(true);
  const ledgerOf = async (tenant: string, planId: string) =>
    (await ok<{ planLedger: { edges: { node: Record<string, unknown> & { entryId: string; eventType: string } }[] } }>(FEED, { p: planId }, (await tokensOf(tenant)).viewer)).planLedger.edges.map((e) => e.node);
  const deliveries = async (tenant: string, vars: Record<string, unknown> = {}) =>
    (await ok<{ webhookDeliveries: { edges: { node: Delivery }[] } }>(DELIVERIES, { first: 500, ...vars }, (await tokensOf(tenant)).admin)).webhookDeliveries.edges.map((e) => e.node);

  beforeAll(async () => {
    server = await startTestServer({
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      WEBHOOK_RETRY_BASE_MS: '50',
      WEBHOOK_TIMEOUT_MS: '1000',
      WEBHOOK_POLL_INTERVAL_MS: '100',
      WEBHOOK_ENDPOINT_CONCURRENCY: '2',
      LEDGER_CHECKPOINT_INTERVAL_MS: '100',
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    for (const r of receivers) await r.close();
    // Every request any receiver got in this file carried a valid signature.
    for (const r of receivers) expect(r.unverified().map((u) => `${u.id} ${u.signature}`)).toEqual([]);
  }, 60_000);

  it('delivers PLAN_CREATED and PLAN_APPROVED, signed, with webhook-id = entryId and the entry as the API shows it', async () => {
    const r = await receiver();
    const created = await createEndpoint('acme', r);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(created.endpoint).toMatchObject({ url: r.url, eventTypes: [], enabled: true });
    const planId = await propose('acme', 'acct-1');
    await approve('acme', planId);
    const entries = await ledgerOf('acme', planId);
    expect(entries.map((e) => e.eventType)).toEqual(['PLAN_CREATED', 'PLAN_APPROVED']);
    await waitUntil('both events delivered', () => entries.every((e) => r.deliveredIds().has(e.entryId)), 10_000, 20);
    for (const entry of entries) {
      const hook = r.received.find((h) => h.id === entry.entryId);
      expect(hook?.verifiedBy).toEqual([0]);
      expect(hook?.json).toEqual({ type: entry.eventType, timestamp: entry.timestamp, data: entry });
      expect(Math.abs(Number(hook?.timestamp) * 1000 - (hook?.at ?? 0))).toBeLessThan(5000);
    }
    // The outcome is stored once the receiver has answered.
    await waitUntil('both recorded', async () => (await deliveries('acme', { s: 'DELIVERED' })).length === 2, 5000, 20);
    const listed = await deliveries('acme', { e: created.endpoint.endpointId });
    expect(listed.map((d) => [d.eventId, d.status, d.attempts, d.lastStatusCode]).sort()).toEqual(entries.map((e) => [e.entryId, 'DELIVERED', 1, 200]).sort());
  }, 30_000);

  it('keeps the secret out of every later answer and out of the store', async () => {
    const r = await receiver();
    const created = await createEndpoint('keeper', r);
    const listed = await server.gql(ENDPOINTS, {}, (await tokensOf('keeper')).admin);
    expect(JSON.stringify(listed)).not.toContain(created.secret.slice(6));
    const stored = await server.db.collection('webhook_endpoints').find({}).toArray();
    const key = Buffer.from(created.secret.slice(6), 'base64');
    expect(JSON.stringify(stored)).not.toContain(created.secret.slice(6));
    expect(JSON.stringify(stored)).not.toContain(key.toString('hex'));
  });

  it('refuses bad input with typed errors and changes nothing', async () => {
    const { admin, viewer, actor } = await tokensOf('strict');
    const count = () => server.db.collection('webhook_endpoints').countDocuments({ tenant_id: 'strict' });
    expect(await codeOf(CREATE, { url: 'http://127.0.0.1:9/x', types: ['PLAN_CREATED', 'NOPE'] }, admin)).toBe('BAD_USER_INPUT');
    for (const url of ['ftp://127.0.0.1/x', 'not a url', 'http://10.0.0.7/x', 'http://169.254.169.254/latest', 'http://[::ffff:10.0.0.1]/', 'http://user:pw@127.0.0.1/x']) {
      expect([url, await codeOf(CREATE, { url }, admin)]).toEqual([url, 'BAD_USER_INPUT']);
    }
    expect(await codeOf(CREATE, { url: 'http://127.0.0.1:9/x' }, viewer)).toBe('FORBIDDEN');
    expect(await codeOf(CREATE, { url: 'http://127.0.0.1:9/x' }, actor)).toBe('FORBIDDEN');
    expect(await codeOf(ENDPOINTS, {}, viewer)).toBe('FORBIDDEN');
    expect(await codeOf(DELIVERIES, {}, actor)).toBe('FORBIDDEN');
    expect(await codeOf(ROTATE, { id: 'whep_missing' }, admin)).toBe('NOT_FOUND');
    expect(await codeOf(DELIVERIES, { after: 'garbage!' }, admin)).toBe('BAD_USER_INPUT');
    expect(await count()).toBe(0);
  });

  it('sends only the event types an endpoint takes', async () => {
    const r = await receiver();
    await createEndpoint('filter', r, ['PLAN_APPROVED']);
    const planA = await propose('filter', 'acct-1');
    const planB = await propose('filter', 'acct-2');
    await approve('filter', planA);
    const approved = (await ledgerOf('filter', planA)).find((e) => e.eventType === 'PLAN_APPROVED');
    await waitUntil('the approval delivered', () => r.deliveredIds().has(approved?.entryId ?? '?'), 10_000, 20);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(r.received.map((h) => h.json.type)).toEqual(['PLAN_APPROVED']);
    expect(planB).toBeTruthy();
  });

  it('signs with both secrets during a rotation, each verifying on its own', async () => {
    const r = await receiver();
    const created = await createEndpoint('rotor', r);
    const { rotateWebhookSecret } = await ok<{ rotateWebhookSecret: { secret: string } }>(ROTATE, { id: created.endpoint.endpointId }, (await tokensOf('rotor')).admin);
    expect(rotateWebhookSecret.secret).not.toBe(created.secret);
    r.secrets.push(rotateWebhookSecret.secret);
    const planId = await propose('rotor', 'acct-1');
    const [entry] = await ledgerOf('rotor', planId);
    await waitUntil('delivered', () => r.deliveredIds().has(entry?.entryId ?? '?'), 10_000, 20);
    const hook = r.received.find((h) => h.id === entry?.entryId);
    expect(hook?.signature.split(' ')).toHaveLength(2);
    // Each secret alone verifies (the receiver checks every secret separately).
    expect(hook?.verifiedBy).toEqual([0, 1]);
  });

  it('never sends one tenant anything of another, nor shows it', async () => {
    const a = await receiver();
    const b = await receiver();
    const endpointA = await createEndpoint('iso-a', a);
    await createEndpoint('iso-b', b);
    const planId = await propose('iso-a', 'acct-1');
    const [entry] = await ledgerOf('iso-a', planId);
    await waitUntil('tenant a got its event', () => a.deliveredIds().has(entry?.entryId ?? '?'), 10_000, 20);
    const test = await ok<{ sendTestWebhook: Delivery }>(TEST, { id: (await ok<{ webhookEndpoints: { endpointId: string }[] }>(ENDPOINTS, {}, (await tokensOf('iso-b')).admin)).webhookEndpoints[0]?.endpointId }, (await tokensOf('iso-b')).admin);
    await waitUntil('tenant b got its test event', () => b.deliveredIds().has(test.sendTestWebhook.eventId), 10_000, 20);
    expect(b.received.map((h) => h.json.type)).toEqual(['webhook.test']);
    const bAdmin = (await tokensOf('iso-b')).admin;
    expect((await ok<{ webhookEndpoints: { url: string }[] }>(ENDPOINTS, {}, bAdmin)).webhookEndpoints.map((e) => e.url)).toEqual([b.url]);
    expect(await deliveries('iso-b', { e: endpointA.endpoint.endpointId })).toEqual([]);
    for (const op of [ROTATE, TEST]) expect(await codeOf(op, { id: endpointA.endpoint.endpointId }, bAdmin)).toBe('NOT_FOUND');
    expect(await codeOf(ENABLE, { id: endpointA.endpoint.endpointId, on: false }, bAdmin)).toBe('NOT_FOUND');
    const aDelivery = (await deliveries('iso-a'))[0];
    expect(await codeOf(REDELIVER, { id: aDelivery?.deliveryId }, bAdmin)).toBe('NOT_FOUND');
  });

  it('retries through 5xx, timeouts and resets until every event is delivered, every request signed', async () => {
    const r = await receiver();
    await createEndpoint('flaky', r);
    // Per event: the first request fails one way, the second another, the third succeeds.
    const seen = new Map<string, number>();
    r.fault = (_n, hook) => {
      const k = seen.get(hook.id) ?? 0;
      seen.set(hook.id, k + 1);
      return k === 0 ? { status: 503 } : k === 1 ? (hook.id.charCodeAt(0) % 2 === 0 ? 'reset' : 'hang') : 'ok';
    };
    const plans = await Promise.all(Array.from({ length: 6 }, (_, i) => propose('flaky', `acct-${i}`)));
    const ids = (await Promise.all(plans.map((p) => ledgerOf('flaky', p)))).flat().map((e) => e.entryId);
    await waitUntil('every event delivered', () => ids.every((id) => r.deliveredIds().has(id)), 30_000, 50);
    await waitUntil('every delivery recorded', async () => (await deliveries('flaky', { s: 'DELIVERED' })).length === ids.length, 5000, 20);
    const listed = await deliveries('flaky');
    expect(listed.map((d) => d.status)).toEqual(ids.map(() => 'DELIVERED'));
    expect(listed.every((d) => d.attempts === 3)).toBe(true);
    expect(r.received.filter((h) => h.fault === 'hang' || h.fault === 'reset').length).toBe(ids.length);
    // Retries rebuild the envelope from the stored entry: byte for byte what the first attempt sent.
    for (const id of ids) expect(new Set(r.received.filter((h) => h.id === id).map((h) => h.body)).size).toBe(1);
  }, 60_000);

  it('a hanging endpoint does not delay another endpoint of the same tenant', async () => {
    const hang = await receiver();
    hang.fault = () => 'hang';
    const fast = await receiver();
    await createEndpoint('mixed', hang);
    await createEndpoint('mixed', fast);
    for (let i = 0; i < 8; i++) {
      const planId = await propose('mixed', `acct-${i}`);
      const [entry] = await ledgerOf('mixed', planId);
      await waitUntil('the healthy endpoint got it', () => fast.deliveredIds().has(entry?.entryId ?? '?'), 5000, 5);
    }
    // Lag: from the event's timestamp to its arrival at the healthy receiver.
    const lags = fast.received.map((h) => h.at - Date.parse(h.json.timestamp));
    expect(lags).toHaveLength(8);
    // The hanging endpoint holds its 2 slots for a full second per attempt; the other is not behind it.
    expect(Math.max(...lags)).toBeLessThan(500);
    expect(hang.received.length).toBeGreaterThan(0);
  }, 30_000);

  it('sends a webhook.test event, lists deliveries by endpoint and status, redelivers with the same webhook-id', async () => {
    const r = await receiver();
    const created = await createEndpoint('tester', r);
    const { admin } = await tokensOf('tester');
    const { sendTestWebhook } = await ok<{ sendTestWebhook: Delivery }>(TEST, { id: created.endpoint.endpointId }, admin);
    expect(sendTestWebhook).toMatchObject({ eventType: 'webhook.test', status: 'PENDING' });
    await waitUntil('test event delivered', () => r.deliveredIds().has(sendTestWebhook.eventId), 10_000, 20);
    expect(r.received[0]?.json.type).toBe('webhook.test');
    // Disabled: a test still goes (that is how a receiver is checked), events do not.
    await ok(ENABLE, { id: created.endpoint.endpointId, on: false }, admin);
    await propose('tester', 'acct-x');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(r.received.map((h) => h.json.type)).toEqual(['webhook.test']);
    await ok(ENABLE, { id: created.endpoint.endpointId, on: true }, admin);
    const planId = await propose('tester', 'acct-y');
    const [entry] = await ledgerOf('tester', planId);
    await waitUntil('delivered after enabling', () => r.deliveredIds().has(entry?.entryId ?? '?'), 10_000, 20);
    await waitUntil('recorded', async () => (await deliveries('tester', { s: 'DELIVERED' })).length === 2, 5000, 20);
    const all = await deliveries('tester', { e: created.endpoint.endpointId });
    expect(all.map((d) => d.eventType)).toEqual(['PLAN_CREATED', 'webhook.test']);
    expect(await deliveries('tester', { s: 'FAILED' })).toEqual([]);
    const page1 = await ok<{ webhookDeliveries: { edges: { node: Delivery }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }>(DELIVERIES, { first: 1 }, admin);
    expect(page1.webhookDeliveries.pageInfo.hasNextPage).toBe(true);
    const page2 = await ok<{ webhookDeliveries: { edges: { node: Delivery }[] } }>(DELIVERIES, { first: 1, after: page1.webhookDeliveries.pageInfo.endCursor }, admin);
    expect(page2.webhookDeliveries.edges.map((e) => e.node.eventType)).toEqual(['webhook.test']);
    const before = r.received.filter((h) => h.id === entry?.entryId).length;
    const { redeliverWebhook } = await ok<{ redeliverWebhook: Delivery }>(REDELIVER, { id: all[0]?.deliveryId }, admin);
    expect(redeliverWebhook.status).toBe('PENDING');
    await waitUntil('redelivered', () => r.received.filter((h) => h.id === entry?.entryId).length === before + 1, 10_000, 20);
    await waitUntil('recorded', async () => (await deliveries('tester', { s: 'DELIVERED' })).some((d) => d.eventId === entry?.entryId && d.attempts === 2), 5000, 20);
  }, 30_000);

  it('answers node(id:) for endpoints and deliveries, within the tenant only', async () => {
    const { admin } = await tokensOf('acme');
    const listed = await ok<{ webhookEndpoints: { endpointId: string }[] }>(ENDPOINTS, {}, admin);
    const endpointId = listed.webhookEndpoints[0]?.endpointId;
    const ids = await ok<{ webhookEndpoints: { id: string }[]; webhookDeliveries: { edges: { node: { id: string; deliveryId: string } }[] } }>(
      '{ webhookEndpoints { id } webhookDeliveries(first: 1) { edges { node { id deliveryId } } } }',
      {},
      admin,
    );
    const [endpointGid, deliveryGid] = [ids.webhookEndpoints[0]?.id, ids.webhookDeliveries.edges[0]?.node.id];
    const NODES = 'query($ids: [ID!]!) { nodes(ids: $ids) { id ... on WebhookEndpoint { endpointId } ... on WebhookDelivery { deliveryId } } }';
    const found = await ok<{ nodes: ({ id: string; endpointId?: string; deliveryId?: string } | null)[] }>(NODES, { ids: [endpointGid, deliveryGid] }, admin);
    expect(found.nodes).toEqual([
      { id: endpointGid, endpointId },
      { id: deliveryGid, deliveryId: ids.webhookDeliveries.edges[0]?.node.deliveryId },
    ]);
    // Another tenant's admin gets null; a viewer of the same tenant may not read them.
    expect((await ok<{ nodes: unknown[] }>(NODES, { ids: [endpointGid, deliveryGid] }, (await tokensOf('other')).admin)).nodes).toEqual([null, null]);
    expect(await codeOf('query($id: ID!) { node(id: $id) { id } }', { id: endpointGid }, (await tokensOf('acme')).viewer)).toBe('FORBIDDEN');
  });

  it('exposes delivery outcomes and lag as Prometheus metrics', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/webhook_delivery_attempts_total\{outcome="delivered"\} [1-9]/);
    expect(text).toMatch(/webhook_delivery_attempts_total\{outcome="retry"\} [1-9]/);
    expect(text).toMatch(/webhook_delivery_lag_seconds_count [1-9]/);
  });
});

describe('signed webhooks: an endpoint failing for the whole retry period', () => {
  it('fails its deliveries and is disabled with a reason', async () => {
    const server = await startTestServer({ WEBHOOK_ALLOW_LOOPBACK: 'true', WEBHOOK_RETRY_BASE_MS: '50', WEBHOOK_RETRY_FOR_MS: '1500', WEBHOOK_POLL_INTERVAL_MS: '100' });
    const r = await startWebhookReceiver();
    r.fault = () => ({ status: 500 });
    try {
      const admin = await server.token('doomed', ['plan-admin']);
      const actor = await server.token('doomed', ['plan-proposer']);
      const created = await server.gql<{ createWebhookEndpoint: Created }>(CREATE, { url: r.url }, admin);
      r.secrets.push(created.data?.createWebhookEndpoint.secret ?? '');
      await server.gql(PROPOSE, { input: { accountId: 'acct-1', planType: 'RENEWAL_DEFENSE', signals: SIGNALS } }, actor);
      await waitUntil(
        'the endpoint disabled',
        async () => (await server.gql<{ webhookEndpoints: { enabled: boolean }[] }>(ENDPOINTS, {}, admin)).data?.webhookEndpoints[0]?.enabled === false,
        15_000,
        100,
      );
      const endpoint = await server.gql(`{ webhookEndpoints { enabled disabledReason } }`, {}, admin);
      expect(JSON.stringify(endpoint.data)).toMatch(/every delivery failed from/);
      await waitUntil('the delivery failed for good', async () => (await server.gql<{ webhookDeliveries: { edges: { node: Delivery }[] } }>(DELIVERIES, { s: 'FAILED' }, admin)).data?.webhookDeliveries.edges.length === 1, 10_000, 100);
      expect(r.received.length).toBeGreaterThan(2);
      expect(r.unverified()).toEqual([]);
      expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/webhook_endpoints_disabled_total 1/);
    } finally {
      await server.close();
      await r.close();
    }
  }, 40_000);
});
