// A request the client abandons stops its work, end to end: the real service, a real HTTP
// request that verifies a checkpoint by recomputing thousands of leaves (the background
// verifier is off and the request's bound raised, so the request does the whole pass), the
// client aborts it after the first leaves are counted, and the service's own counter of leaves
// recomputed by requests (ledger_leaves_recomputed_total{by="request"}) stops growing far
// short of the log. The same request left to finish recomputes every leaf: the difference is
// the abort.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { LEDGER_LOG_COLLECTIONS } from '../../src/store/ledgerLog/ledgerLogIndexes.js';
import { PlanLedger } from '../../src/store/PlanLedger.js';
import { chainAppender } from '../support/ledgerAppends.js';
import { Figures, sleep, waitUntil } from '../support/reliability.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

const ENTRIES = 4000;
const TENANT = 'abandoned';
const VERIFY = '{ verifyLedgerCheckpoint { treeSize valid entriesChecked } }';
const figures = new Figures('abandoned request');

describe('a request the client abandoned stops its work (real server, real store)', () => {
  let server: TestServer;
  let token: string;

  beforeAll(async () => {
    server = await startTestServer({ LEDGER_VERIFIER: 'off', LEDGER_VERIFY_REQUEST_MAX_LEAVES: '1000000' });
    token = await server.token(TENANT, ['plan-viewer'], 'ann');
    const sealer = server.running.services.sealer!;
    const append = chainAppender(new PlanLedger(server.db));
    for (let p = 0; p * 50 < ENTRIES; p++) {
      const planId = randomUUID();
      for (let i = 0; i < 50; i++) sealer.notify(await append({ plan_id: planId, tenant_id: TENANT, account_id: 'a', event_type: 'PLAN_UPDATED', actor: 'ann', data: { i } }));
    }
    while (sealer.pendingCount() > 0) await sealer.sealAll();
  }, 300_000);
  afterAll(async () => {
    figures.print();
    await server.close();
  });

  const recomputed = async () => (await server.running.services.metrics.ledgerLeavesRecomputed.get()).values.find((v) => v.labels.by === 'request')?.value ?? 0;
  const prefix = () => server.db.collection(LEDGER_LOG_COLLECTIONS.verifiedPrefixes).findOne({ tenant_id: TENANT });
  const send = (signal?: AbortSignal) =>
    fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: VERIFY }), ...(signal ? { signal } : {}) });

  it('stops recomputing leaves once the client closes the request; left alone, the same request recomputes them all', async () => {
    const before = await recomputed();
    const client = new AbortController();
    const abandoned = send(client.signal).then(
      () => 'answered',
      (e: unknown) => (e as Error).name,
    );
    await waitUntil('the request to start recomputing', async () => (await recomputed()) > before, 30_000, 5);
    client.abort();
    expect(await abandoned).toBe('AbortError');
    // Time for the service to notice the close and for a pass that ignored it to finish.
    await sleep(1500);
    const afterAbort = (await recomputed()) - before;
    await sleep(1000);
    expect((await recomputed()) - before).toBe(afterAbort);
    expect(afterAbort).toBeGreaterThan(0);
    expect(afterAbort).toBeLessThan(ENTRIES / 2);
    expect(await prefix()).toBeNull();

    const res = await send();
    expect(await res.json()).toEqual({ data: { verifyLedgerCheckpoint: { treeSize: ENTRIES, valid: true, entriesChecked: ENTRIES } } });
    const finished = (await recomputed()) - before - afterAbort;
    expect(finished).toBe(ENTRIES);
    expect(await prefix()).toMatchObject({ tree_size: ENTRIES });
    figures.set('leaves in the log', ENTRIES);
    figures.set('leaves recomputed by the abandoned request', afterAbort);
    figures.set('leaves recomputed by the same request left to finish', finished);
  }, 120_000);
});
