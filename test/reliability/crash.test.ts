import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Db } from 'mongodb';
import { openTestDb, type TestDb } from '../support/testDb.js';
import {
  auditLedgers,
  contractViolations,
  Figures,
  mapLimit,
  postGql,
  PROPOSE,
  SIGNALS,
  spawnServiceProcess,
  tokenFor,
  TRANSITIONS,
  VERIFY,
  type ProposedPlan,
  type ServiceProcess,
  type TransitionResult,
} from '../support/reliability.js';

/**
 * Crash: the service runs as its own process (`node --import tsx src/main.ts`) against the
 * run's store. It is killed with SIGKILL in the middle of a burst of proposals and
 * transitions, CRASH_CYCLES times (2 by default); each restart runs the start-up repair sweep. Afterwards every plan
 * has its complete ledger and a valid chain, its status is what its events say, and every
 * request the service acknowledged before a kill is in the store.
 */

const CYCLES = Math.max(1, Number(process.env.CRASH_CYCLES ?? 2));
const IN_FLIGHT = 24;
const figures = new Figures('crash (SIGKILL mid-burst)');

type Op = 'propose' | keyof typeof TRANSITIONS | 'update';
const EVENT_OF: Record<Exclude<Op, 'propose'>, string> = {
  approve: 'PLAN_APPROVED',
  activate: 'PLAN_ACTIVATED',
  pause: 'PLAN_PAUSED',
  resume: 'PLAN_RESUMED',
  abort: 'PLAN_ABORTED',
  update: 'PLAN_UPDATED',
};

describe('reliability: SIGKILL in the middle of a burst', () => {
  let testDb: TestDb | undefined;
  let db: Db;
  let proc: ServiceProcess | null = null;
  let token: string;
  const started: number[] = [];

  const start = async () => {
    const t0 = performance.now();
    proc = await spawnServiceProcess({ MONGODB_URI: testDb!.uri, MONGODB_DB: testDb!.dbName });
    started.push(proc.pid);
    figures.set('last service start-up (ms, tsx included)', Math.round(performance.now() - t0));
    return proc;
  };

  beforeAll(async () => {
    testDb = await openTestDb('crash');
    db = testDb.db;
    token = await tokenFor('crash', ['plan-proposer', 'plan-approver'], 'kim');
  }, 30_000);

  afterAll(async () => {
    figures.print();
    await proc?.stop();
    await testDb?.close();
  }, 60_000);

  it(
    'keeps every acknowledged write and leaves every plan with its complete, valid ledger after repeated SIGKILLs',
    async () => {
      const planIds: string[] = [];
      // Acknowledged effects: per plan, how many times each event was acknowledged.
      const acked = new Map<string, Map<string, number>>();
      const ack = (planId: string, event: string) => {
        const m = acked.get(planId) ?? new Map<string, number>();
        m.set(event, (m.get(event) ?? 0) + 1);
        acked.set(planId, m);
      };
      let keyCounter = 0;
      let pendingAfterKills = 0;
      let documentsLost = 0;

      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const cycleStarted = performance.now();
        const service = await start();
        const url = service.url;
        // Seed a few plans each cycle so transitions have work.
        for (let i = 0; i < 6; i++) {
          const res = await postGql<{ proposePlan: ProposedPlan }>(url, PROPOSE, { input: { accountId: `acct-${cycle}-${i}`, planType: 'RENEWAL_DEFENSE', signals: SIGNALS, idempotencyKey: `seed-${cycle}-${i}` } }, { token });
          expect(res.errors).toBeUndefined();
          const id = res.data!.proposePlan.plan.planId;
          planIds.push(id);
          ack(id, 'PLAN_CREATED');
        }

        let completed = 0;
        let inFlightAtKill = 0;
        let killed = false;
        const killAfter = 60 + Math.floor(Math.random() * 60);
        const ops: Op[] = ['propose', 'propose', 'approve', 'activate', 'pause', 'resume', 'abort', 'update', 'approve', 'activate'];
        const work = Array.from({ length: 2000 }, (_, i) => i);
        let inFlight = 0;
        await mapLimit(work, IN_FLIGHT, async (i) => {
          if (killed) return;
          const op = ops[(i * 7 + cycle) % ops.length] as Op;
          inFlight++;
          try {
            if (op === 'propose') {
              const key = `burst-${keyCounter++}`;
              const res = await postGql<{ proposePlan: ProposedPlan }>(url, PROPOSE, { input: { accountId: `acct-b-${i % 11}`, planType: 'RENEWAL_DEFENSE', signals: SIGNALS, idempotencyKey: key } }, { token, timeoutMs: 20_000 });
              figures.add('requests sent');
              if (res.status === 0) return void figures.add('requests cut off by the kill');
              expect(contractViolations(res)).toEqual([]);
              if (res.data?.proposePlan) {
                const id = res.data.proposePlan.plan.planId;
                planIds.push(id);
                ack(id, 'PLAN_CREATED');
              }
            } else {
              const planId = planIds[(i * 13) % planIds.length] as string;
              const res =
                op === 'update'
                  ? await postGql<{ r: TransitionResult }>(
                      url,
                      'mutation($planId: ID!) { r: updateDraftPlan(planId: $planId, input: { objective: "Crash-tested objective" }) { ok reasons { code message } plan { planId status } } }',
                      { planId },
                      { token, timeoutMs: 20_000 },
                    )
                  : await postGql<{ r: TransitionResult }>(url, TRANSITIONS[op], { planId }, { token, timeoutMs: 20_000 });
              figures.add('requests sent');
              if (res.status === 0) return void figures.add('requests cut off by the kill');
              expect(contractViolations(res)).toEqual([]);
              if (res.data?.r?.ok) ack(planId, EVENT_OF[op]);
            }
          } finally {
            inFlight--;
            completed++;
            if (!killed && completed >= killAfter) {
              killed = true;
              inFlightAtKill = inFlight;
              service.kill('SIGKILL');
            }
          }
        });
        const exit = await service.exited;
        expect(exit.signal).toBe('SIGKILL');
        figures.add('SIGKILLs (faults injected)');
        figures.add('requests in flight at the kill', inFlightAtKill);
        // Half-written changes the kill left behind (the start-up sweep must complete them).
        pendingAfterKills += await db.collection('plans').countDocuments({ pending_event: { $exists: true } });
        // Proposals cut between their two inserts (the entry is written first, then the plan).
        const documents = new Set((await db.collection('plans').find({}, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id)));
        const created = await db.collection('plan_ledger').find({ event_type: 'PLAN_CREATED' }, { projection: { plan_id: 1 } }).toArray();
        documentsLost += created.filter((e) => !documents.has(String(e.plan_id))).length;
        figures.set(`cycle ${cycle + 1}: start, seed, burst until the kill (ms)`, Math.round(performance.now() - cycleStarted));
      }
      figures.set('plans left with a pending ledger event by the kills', pendingAfterKills);
      figures.set('PLAN_CREATED entries left without their plan document by the kills', documentsLost);

      // Restart: the start-up sweep completes every half-written change before it serves.
      const finalStarted = performance.now();
      const service = await start();
      const audit = await auditLedgers(db);
      figures.set('plans / ledger entries after the final restart', `${audit.plans} / ${audit.entries}`);
      figures.add('ledger problems after restart', audit.problems.length);
      expect(audit.problems).toEqual([]);
      expect(audit.pending).toBe(0);

      // Every acknowledged effect is in the ledger (as often as it was acknowledged).
      const entries = await db.collection('plan_ledger').find({}, { projection: { plan_id: 1, event_type: 1 } }).toArray();
      const stored = new Map<string, Map<string, number>>();
      for (const e of entries) {
        const m = stored.get(e.plan_id as string) ?? new Map<string, number>();
        m.set(e.event_type as string, (m.get(e.event_type as string) ?? 0) + 1);
        stored.set(e.plan_id as string, m);
      }
      let lost = 0;
      let acknowledgedEffects = 0;
      for (const [planId, events] of acked) {
        for (const [event, n] of events) {
          acknowledgedEffects += n;
          const have = stored.get(planId)?.get(event) ?? 0;
          if (have < n) lost += n - have;
        }
      }
      figures.add('acknowledged effects checked', acknowledgedEffects);
      figures.add('items lost (acknowledged but not in the ledger)', lost);
      expect(lost).toBe(0);

      figures.set('final restart and store audit (ms)', Math.round(performance.now() - finalStarted));
      const verifyStarted = performance.now();
      // And through the API: every chain verifies.
      const ids = (await db.collection('plans').find({}, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id));
      const verified = await mapLimit(ids, 16, (id) => postGql<{ verifyPlanLedger: { valid: boolean } }>(service.url, VERIFY, { id }, { token }));
      const invalid = verified.filter((v) => v.data?.verifyPlanLedger.valid !== true);
      figures.set('verifyPlanLedger of every plan through the API (ms)', Math.round(performance.now() - verifyStarted));
      figures.add('chains verified through the restarted service', verified.length);
      expect(invalid.map((v) => v.text)).toEqual([]);

      // The restarted service keeps working, and replays of acknowledged idempotent proposals write nothing new.
      const before = await db.collection('plans').countDocuments({});
      const replay = await postGql<{ proposePlan: ProposedPlan }>(service.url, PROPOSE, { input: { accountId: 'acct-0-0', planType: 'RENEWAL_DEFENSE', signals: SIGNALS, idempotencyKey: 'seed-0-0' } }, { token });
      expect(replay.errors).toBeUndefined();
      expect(await db.collection('plans').countDocuments({})).toBe(before);
      figures.set('service pids started', started.join(', '));
    },
    170_000,
  );
});
