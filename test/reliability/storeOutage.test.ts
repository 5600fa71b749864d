import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { startEmbeddedStore, type EmbeddedStore } from '../../src/store/embeddedStore.js';
import {
  auditLedgers,
  Figures,
  firstCode,
  freePort,
  LEAK_PATTERN,
  PROPOSE,
  SIGNALS,
  sleep,
  startReliabilityServer,
  tokenFor,
  waitUntil,
  type ProposedPlan,
  type RawResponse,
  type ReliabilityServer,
} from '../support/reliability.js';

/**
 * Store outage: the service runs against an embedded store of its own on a fixed port. The
 * store is stopped while requests are in flight and restarted on the same port and data dir.
 * Requests fail fast and clean, /health says 503, nothing crashes, the service recovers by
 * itself, and no plan exists without its PLAN_CREATED.
 */

const FAIL_FAST_BOUND_MS = 10_000;
const figures = new Figures('store outage');

interface Outcome {
  phase: 'before' | 'outage' | 'after';
  key: string;
  ok: boolean;
  code: string | undefined;
  message: string;
  ms: number;
  status: number;
  planId?: string;
}

describe('reliability: store outage and recovery', () => {
  let dataDir: string;
  let port: number;
  let store: EmbeddedStore | null = null;
  let server: ReliabilityServer;
  let token: string;
  let consoleError: ReturnType<typeof jest.spyOn>;
  let consoleWarn: ReturnType<typeof jest.spyOn>;

  beforeAll(async () => {
    // The store layer reports driver failures on the console (see the report); keep the run's output readable.
    consoleError = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    consoleWarn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    dataDir = await mkdtemp(join(tmpdir(), 'rd-outage-'));
    port = await freePort();
    store = await startEmbeddedStore({ dataDir, port });
    server = await startReliabilityServer({}, store.uri);
    token = await tokenFor('outage', ['plan-proposer', 'plan-approver'], 'olga');
  }, 90_000);

  afterAll(async () => {
    consoleError.mockRestore();
    consoleWarn.mockRestore();
    figures.print();
    await server?.close();
    await store?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  const health = async () => {
    const started = performance.now();
    try {
      const res = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(15_000) });
      return { status: res.status, ms: performance.now() - started };
    } catch {
      return { status: 0, ms: performance.now() - started };
    }
  };

  it(
    'fails fast and clean while the store is down, answers /health 503, and recovers by itself when it is back',
    async () => {
      const outcomes: Outcome[] = [];
      let phase: Outcome['phase'] = 'before';
      let counter = 0;
      const send = async (): Promise<Outcome> => {
        const key = `outage-${counter++}`;
        const myPhase = phase;
        const res: RawResponse<{ proposePlan: ProposedPlan }> = await server.gql(
          PROPOSE,
          { input: { accountId: `acct-${counter % 7}`, planType: 'RENEWAL_DEFENSE', signals: SIGNALS, idempotencyKey: key } },
          token,
          { timeoutMs: 40_000 },
        );
        const outcome: Outcome = {
          phase: myPhase,
          key,
          ok: !!res.data?.proposePlan && !res.errors,
          code: firstCode(res),
          message: res.errors?.map((e) => e.message).join(' | ') ?? '',
          ms: res.ms,
          status: res.status,
          ...(res.data?.proposePlan ? { planId: res.data.proposePlan.plan.planId } : {}),
        };
        outcomes.push(outcome);
        // Also a read, which must fail as cleanly.
        const read = await server.gql('{ plans(first: 5) { edges { node { planId } } } }', {}, token, { timeoutMs: 40_000 });
        outcomes.push({ phase: myPhase, key: `${key}-read`, ok: !read.errors, code: firstCode(read), message: read.errors?.map((e) => e.message).join(' | ') ?? '', ms: read.ms, status: read.status });
        return outcome;
      };

      // The service's driver events (topology monitoring), for the diagnostics of a failed recovery.
      const sdam: string[] = [];
      const client = server.running.mongo.client;
      const t0 = Date.now();
      const note = (what: string) => (e: unknown) => {
        const ev = e as { failure?: { message?: string }; newDescription?: { type?: string; error?: { message?: string } | null }; awaited?: boolean; duration?: number };
        sdam.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${what}${ev.awaited !== undefined ? ` awaited=${ev.awaited}` : ''}${ev.duration !== undefined ? ` ${ev.duration}ms` : ''}${ev.newDescription ? ` -> ${ev.newDescription.type}${ev.newDescription.error ? ` (${String(ev.newDescription.error.message).slice(0, 80)})` : ''}` : ''}${ev.failure ? ` ${String(ev.failure.message).slice(0, 80)}` : ''}`);
        if (sdam.length > 200) sdam.splice(0, sdam.length - 200);
      };
      for (const event of ['serverHeartbeatFailed', 'serverDescriptionChanged', 'topologyDescriptionChanged', 'connectionPoolCleared', 'connectionPoolReady']) client.on(event, note(event));

      // Warm up: everything works.
      for (let i = 0; i < 10; i++) expect((await send()).ok).toBe(true);
      expect((await health()).status).toBe(200);

      // A steady load from 8 workers for the whole test.
      // Bounded: it stops when told, or after 120 s whatever happens (a failed assertion included).
      let stopLoad = false;
      const loadDeadline = Date.now() + 120_000;
      const workers = Array.from({ length: 8 }, async () => {
        while (!stopLoad && Date.now() < loadDeadline) {
          const o = await send();
          if (phase === 'outage' || !o.ok) await sleep(50);
        }
      });
      try {
        await sleep(800);

        // Stop the store with requests in flight.
        phase = 'outage';
        const stopStarted = performance.now();
        await store!.stop();
        store = null;
        figures.set('store stop took (ms)', Math.round(performance.now() - stopStarted));
        figures.add('faults injected (store stopped while requests in flight)');

        // /health answers 503 quickly; requests fail fast.
        const downHealth = await health();
        figures.set('/health during the outage: status, ms', `${downHealth.status}, ${Math.round(downHealth.ms)}`);
        expect(downHealth.status).toBe(503);
        expect(downHealth.ms).toBeLessThan(FAIL_FAST_BOUND_MS);
        await sleep(6000);
        expect((await health()).status).toBe(503);

        // Restart on the same port and data dir; the service must recover without help.
        phase = 'after';
        const restartStarted = performance.now();
        store = await startEmbeddedStore({ dataDir, port });
        const storeBackMs = performance.now() - restartStarted;
        const healthLog: string[] = [];
        const recoveredAfter = await waitUntil(
          '/health 200 after the store restart',
          async () => {
            const h = await health();
            healthLog.push(`${h.status}/${Math.round(h.ms)}ms`);
            return h.status === 200;
          },
          30_000,
          200,
        ).catch(async (e: unknown) => {
          // Diagnostics: is the store up for a fresh client, and what do requests say?
          const probe = new MongoClient(store!.uri, { serverSelectionTimeoutMS: 2000, directConnection: true });
          const direct = await probe.db('admin').command({ ping: 1 }).then(() => 'ok', (err: unknown) => String(err));
          await probe.close().catch(() => undefined);
          const recent = outcomes.slice(-6).map((o) => `${o.phase} ${o.ok ? 'ok' : o.code} ${Math.round(o.ms)}ms ${o.message.slice(0, 80)}`);
          throw new Error(`${String(e)}\nhealth polls: ${healthLog.slice(-20).join(' ')}\nfresh client ping: ${direct}\nrecent requests:\n${recent.join('\n')}\ndriver events (last 40):\n${sdam.slice(-40).join('\n')}`);
        });
        figures.set('store restart took (ms)', Math.round(storeBackMs));
        figures.set('/health back to 200 after the store was back (ms)', recoveredAfter);
        const recoveryStarted = Date.now();
        await waitUntil('a proposal to succeed after the restart', async () => (await send()).ok, 30_000, 200);
        figures.set('first successful proposal after the store was back (ms)', Date.now() - recoveryStarted + recoveredAfter);
        await sleep(1000);
      } finally {
        stopLoad = true;
        await Promise.all(workers);
      }

      const during = outcomes.filter((o) => o.phase === 'outage' && !o.ok);
      const after = outcomes.filter((o) => o.phase === 'after');
      figures.add('requests sent', outcomes.length);
      figures.add('requests failed during the outage', during.length);
      figures.add('requests that succeeded', outcomes.filter((o) => o.ok).length);
      figures.set('slowest failed request (ms)', Math.round(Math.max(0, ...during.map((o) => o.ms))));
      figures.set('error codes seen while down', [...new Set(during.map((o) => `${o.status}:${o.code}`))].join(', '));
      expect(during.length).toBeGreaterThan(0);
      // Clean failures: a 200 with INTERNAL_SERVER_ERROR (or the request answered normally), no driver text, bounded time.
      for (const o of outcomes.filter((x) => !x.ok)) {
        expect(o.status).toBeGreaterThan(0);
        expect(o.code).toBe('INTERNAL_SERVER_ERROR');
        expect(o.message).not.toMatch(LEAK_PATTERN);
        expect(o.ms).toBeLessThan(FAIL_FAST_BOUND_MS);
      }
      expect(after.filter((o) => o.ok).length).toBeGreaterThan(0);

      // Every proposal acknowledged at any time has its plan.
      const acknowledged = outcomes.filter((o) => o.ok && o.planId);
      const storedIds = new Set((await server.db.collection('plans').find({}, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id)));
      const lost = acknowledged.filter((o) => !storedIds.has(o.planId as string));
      figures.add('items lost (acknowledged proposals without their plan)', lost.length);
      expect(lost).toEqual([]);

      // No plan without its PLAN_CREATED and no PLAN_CREATED without its plan: a proposal cut
      // between its two inserts (entry first, then the plan document) left an entry whose plan
      // document is restored by the first read of the plan by id (or the instance's sweep).
      const createdIds = (await server.db.collection('plan_ledger').find({ event_type: 'PLAN_CREATED' }, { projection: { plan_id: 1 } }).toArray()).map((d) => String(d.plan_id));
      const withoutDocument = createdIds.filter((id) => !storedIds.has(id));
      figures.set('PLAN_CREATED entries whose plan document the outage cut off', withoutDocument.length);
      const before = await auditLedgers(server.db, { allowPending: true });
      figures.set('plans with an event still in the outbox right after recovery', before.pending);
      for (const id of new Set([...storedIds, ...createdIds])) {
        const res = await server.gql<{ plan: { planId: string } | null }>('query($id: ID!) { plan(planId: $id) { planId } }', { id }, token);
        expect(res.errors).toBeUndefined();
        expect(res.data?.plan?.planId).toBe(id);
      }
      const audit = await auditLedgers(server.db);
      figures.set('plans after recovery / ledger entries / problems', `${audit.plans} / ${audit.entries} / ${audit.problems.length}`);
      expect(audit.problems).toEqual([]);

      // Failed idempotent proposals are safe to retry: one plan per key, never two.
      const failedKeys = [...new Set(outcomes.filter((o) => !o.ok && !o.key.endsWith('-read')).map((o) => o.key))].slice(0, 30);
      for (const key of failedKeys) {
        const n = Number(key.split('-')[1]);
        const res = await server.gql<{ proposePlan: ProposedPlan }>(
          PROPOSE,
          { input: { accountId: `acct-${(n + 1) % 7}`, planType: 'RENEWAL_DEFENSE', signals: SIGNALS, idempotencyKey: key } },
          token,
        );
        expect(res.errors).toBeUndefined();
      }
      figures.add('failed idempotent proposals retried after recovery', failedKeys.length);
      const finalAudit = await auditLedgers(server.db);
      expect(finalAudit.problems).toEqual([]);
      const keys = await server.db.collection('plans').find({}, { projection: { 'proposal.idempotency_key': 1 } }).toArray();
      const keyCounts = new Map<string, number>();
      for (const k of keys) {
        const key = (k.proposal as { idempotency_key?: string } | undefined)?.idempotency_key ?? '';
        keyCounts.set(key, (keyCounts.get(key) ?? 0) + 1);
      }
      expect([...keyCounts.values()].filter((n) => n > 1)).toEqual([]);
    },
    150_000,
  );
});
