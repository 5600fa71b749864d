import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  auditLedgers,
  contractViolations,
  Figures,
  firstCode,
  mapLimit,
  PROPOSE,
  SIGNALS,
  startReliabilityServer,
  tokenFor,
  TRANSITIONS,
  VERIFY,
  type ProposedPlan,
  type RawResponse,
  type ReliabilityServer,
  type TransitionResult,
} from '../support/reliability.js';

/**
 * Load with duplicates and races, over real HTTP against the real service and store:
 * - 500 proposePlan calls, 50 in flight, a tenth of them repeats of an earlier idempotencyKey
 *   (half racing their original, half replayed later): exactly one plan and one PLAN_CREATED
 *   per key, every chain valid (verifyPlanLedger on every plan), no 5xx. One service and one
 *   database by default; on a slow machine RELIABILITY_LOAD_SERVICES=<n> spreads the keys
 *   over n service instances with a database each (a key always goes to the same one), and
 *   VERIFY_SAMPLE=1 verifies the repeated keys plus a sample through the API (every chain is
 *   still walked by reading the store).
 * - 20 parallel approvals of one plan: exactly one PLAN_APPROVED.
 * - parallel activations of different plans of one account and type: exactly one ACTIVE.
 */

const TOTAL_CALLS = 500;
const IN_FLIGHT = 50;
const TENANTS = ['load-a', 'load-b', 'load-c'];
const LOAD_SERVICES = Math.max(1, Number(process.env.RELIABILITY_LOAD_SERVICES ?? 1));

const figures = new Figures('load and races');

describe('reliability: load with duplicates and races', () => {
  let server: ReliabilityServer;
  const loadServers: ReliabilityServer[] = [];
  const proposers = new Map<string, string>();
  let approver: string;
  let viewerA: string;

  beforeAll(async () => {
    // The races get a database of their own, away from the load's plans.
    server = await startReliabilityServer();
    for (let i = 0; i < LOAD_SERVICES; i++) loadServers.push(await startReliabilityServer());
    for (const t of TENANTS) proposers.set(t, await tokenFor(t, ['plan-proposer', 'plan-approver'], `p-${t}`));
    approver = await tokenFor('race', ['plan-proposer', 'plan-approver'], 'racer');
    viewerA = await tokenFor(TENANTS[0] as string, ['plan-viewer'], 'v');
  }, 60_000);

  afterAll(async () => {
    figures.print();
    for (const s of loadServers) await s.close();
    await server?.close();
  }, 60_000);

  it(
    'takes 500 concurrent proposals with duplicate idempotency keys: one plan and one PLAN_CREATED per key, every chain valid, no 5xx',
    async () => {
      const uniqueCalls = TOTAL_CALLS - TOTAL_CALLS / 10; // 450 keys, 50 repeats
      interface Call {
        tenant: string;
        key: string;
        account: string;
        repeatOf: number | null;
        /** Which service instance (database) serves this key. */
        shard: number;
      }
      const originals: Call[] = Array.from({ length: uniqueCalls }, (_, i) => ({
        tenant: TENANTS[i % TENANTS.length] as string,
        key: `load-key-${i}`,
        account: `acct-${i % 37}`,
        repeatOf: null,
        shard: i % LOAD_SERVICES,
      }));
      // Repeats: the first 25 go right after their original (they race it), the next 25 at the end (replays).
      const calls: Call[] = [];
      originals.forEach((c, i) => {
        calls.push(c);
        if (i % 18 === 0 && i / 18 < 25) calls.push({ ...c, repeatOf: i });
      });
      for (let i = 0; calls.length < TOTAL_CALLS; i += 9) calls.push({ ...(originals[i] as Call), repeatOf: i });
      expect(calls.length).toBe(TOTAL_CALLS);

      const started = performance.now();
      const responses = await mapLimit(calls, IN_FLIGHT, (c) =>
        (loadServers[c.shard] as ReliabilityServer).gql<{ proposePlan: ProposedPlan }>(
          PROPOSE,
          { input: { accountId: c.account, planType: 'RENEWAL_DEFENSE', signals: SIGNALS, idempotencyKey: c.key } },
          proposers.get(c.tenant),
        ),
      );
      const elapsed = performance.now() - started;
      figures.add('proposals sent', calls.length);
      figures.set('service instances (databases) under load', LOAD_SERVICES);
      figures.add('duplicate proposals sent (same idempotencyKey)', calls.filter((c) => c.repeatOf !== null).length);
      figures.set('proposal burst wall time (ms)', Math.round(elapsed));
      figures.set('proposal throughput (req/s)', Math.round((calls.length / elapsed) * 1000));
      const latencies = responses.map((r) => r.ms).sort((a, b) => a - b);
      figures.set('proposal latency p50 / p99 / max (ms)', `${Math.round(latencies[Math.floor(latencies.length * 0.5)] ?? 0)} / ${Math.round(latencies[Math.floor(latencies.length * 0.99)] ?? 0)} / ${Math.round(latencies.at(-1) ?? 0)}`);

      const violations = responses.flatMap((r, i) => contractViolations(r).map((p) => `call ${i}: ${p}`));
      const fiveHundreds = responses.filter((r) => r.status >= 500 || r.status === 0).length;
      figures.add('5xx or unanswered responses', fiveHundreds);
      expect(violations).toEqual([]);
      const failed = responses.map((r, i) => [i, r] as const).filter(([, r]) => r.errors?.length || !r.data?.proposePlan);
      figures.add('proposals answered with an error', failed.length);
      expect(failed.map(([i, r]) => `${i}: ${firstCode(r)} ${r.errors?.[0]?.message ?? ''}`)).toEqual([]);

      // Every repeat got the original's plan and proposal.
      const byKey = new Map<string, ProposedPlan>();
      calls.forEach((c, i) => {
        const p = (responses[i] as RawResponse<{ proposePlan: ProposedPlan }>).data!.proposePlan;
        const key = `${c.tenant}/${c.key}`;
        const seen = byKey.get(key);
        if (seen) {
          expect(p.plan.planId).toBe(seen.plan.planId);
          expect(p.proposalId).toBe(seen.proposalId);
        } else byKey.set(key, p);
        expect(p.plan.status).toBe('DRAFT');
        expect(p.plan.tenantId).toBe(c.tenant);
      });
      expect(byKey.size).toBe(uniqueCalls);

      // Exactly the expected number of plans, and one PLAN_CREATED each.
      let storedPlans = 0;
      let createdEntries = 0;
      let createdPlans = 0;
      let ledgerEntries = 0;
      for (const s of loadServers) {
        storedPlans += await s.db.collection('plans').countDocuments({});
        const created = await s.db.collection('plan_ledger').find({ event_type: 'PLAN_CREATED' }, { projection: { plan_id: 1 } }).toArray();
        createdEntries += created.length;
        createdPlans += new Set(created.map((e) => e.plan_id)).size;
        ledgerEntries += await s.db.collection('plan_ledger').countDocuments({});
      }
      expect(storedPlans).toBe(uniqueCalls);
      expect(createdEntries).toBe(uniqueCalls);
      expect(createdPlans).toBe(uniqueCalls);
      expect(ledgerEntries).toBe(uniqueCalls);
      figures.set('plans stored (expected 450)', storedPlans);
      figures.add('duplicate plans or PLAN_CREATED entries', createdEntries - createdPlans);

      // Every chain valid: through the API (every plan, or with VERIFY_SAMPLE=1 the repeated
      // keys and a spread sample), and all of them by reading the store (seq 1..n, prev_hash
      // links, recomputed hashes, event counts).
      const shardOf = new Map(originals.map((c) => [`${c.tenant}/${c.key}`, c.shard]));
      const repeatedKeys = new Set(calls.filter((c) => c.repeatOf !== null).map((c) => `${c.tenant}/${c.key}`));
      const planIds = [...byKey.entries()]
        .filter(([k], i) => process.env.VERIFY_SAMPLE !== '1' || repeatedKeys.has(k) || i % 45 === 0)
        .map(([k, p]) => [k.split('/')[0] as string, p.plan.planId, shardOf.get(k) as number] as const);
      const verifyStarted = performance.now();
      const verified = await mapLimit(planIds, 10, ([tenant, id, shard]) =>
        (loadServers[shard] as ReliabilityServer).gql<{ verifyPlanLedger: { valid: boolean; entries: number } }>(VERIFY, { id }, proposers.get(tenant)),
      );
      figures.set(`verifyPlanLedger through the API of ${planIds.length} plans (ms)`, Math.round(performance.now() - verifyStarted));
      const invalid = verified.filter((v) => !v.data?.verifyPlanLedger.valid || v.data.verifyPlanLedger.entries !== 1);
      figures.add('chains verified through verifyPlanLedger', verified.length);
      figures.add('invalid chains', invalid.length);
      expect(invalid.map((v) => v.text)).toEqual([]);
      let audited = 0;
      for (const s of loadServers) {
        const audit = await auditLedgers(s.db);
        expect(audit.problems).toEqual([]);
        audited += audit.plans;
      }
      figures.add('chains verified by reading the store (hash walk)', audited);
      figures.add('items lost (acknowledged proposals without plan or PLAN_CREATED)', 0);

      // The listing sees every plan of a tenant exactly once.
      const seen = new Set<string>();
      let after: string | null = null;
      for (let page = 0; page < 40; page++) {
        const res: RawResponse<{ plans: { edges: { node: { planId: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }> = await (loadServers[0] as ReliabilityServer).gql(
          'query($after: String) { plans(first: 25, after: $after) { edges { node { planId } } pageInfo { hasNextPage endCursor } } }',
          { after },
          viewerA,
        );
        expect(res.errors).toBeUndefined();
        for (const e of res.data!.plans.edges) {
          expect(seen.has(e.node.planId)).toBe(false);
          seen.add(e.node.planId);
        }
        if (!res.data!.plans.pageInfo.hasNextPage) break;
        after = res.data!.plans.pageInfo.endCursor;
      }
      expect(seen.size).toBe(originals.filter((c) => c.tenant === TENANTS[0] && c.shard === 0).length);
    },
    300_000,
  );

  const propose = async (accountId: string) => {
    const res = await server.gql<{ proposePlan: ProposedPlan }>(PROPOSE, { input: { accountId, planType: 'RENEWAL_DEFENSE', signals: SIGNALS } }, approver);
    expect(res.errors).toBeUndefined();
    return res.data!.proposePlan.plan.planId;
  };
  const transition = (name: keyof typeof TRANSITIONS, planId: string) => server.gql<{ r: TransitionResult }>(TRANSITIONS[name], { planId }, approver);

  it(
    'lets exactly one of 20 parallel approvals of one plan win (the others INVALID_TRANSITION or CONFLICT)',
    async () => {
      const rounds = 3;
      for (let round = 0; round < rounds; round++) {
        const planId = await propose(`race-approve-${round}`);
        const results = await Promise.all(Array.from({ length: 20 }, () => transition('approve', planId)));
        figures.add('parallel approvals sent', results.length);
        expect(results.flatMap((r) => contractViolations(r))).toEqual([]);
        const wins = results.filter((r) => r.data?.r?.ok === true);
        for (const r of results) figures.tally('approval race outcome', r.data?.r?.ok === true ? 'ok' : r.data?.r ? `ok:false ${r.data.r.reasons.map((x) => x.code).join(',')}` : String(firstCode(r)));
        expect(wins.length).toBe(1);
        for (const r of results.filter((x) => x.data?.r?.ok !== true)) expect(['INVALID_TRANSITION', 'CONFLICT']).toContain(firstCode(r));
        const events = await server.db.collection('plan_ledger').find({ plan_id: planId }).sort({ seq: 1 }).toArray();
        expect(events.map((e) => e.event_type)).toEqual(['PLAN_CREATED', 'PLAN_APPROVED']);
        expect((await server.db.collection('plans').findOne({ _id: planId } as never))?.plan_status).toBe('APPROVED');
      }
    },
    60_000,
  );

  it(
    'lets exactly one of parallel activations of different plans of one account and type win (the others CONFLICT_ACTIVE_PLAN or CONFLICT)',
    async () => {
      const rounds = 3;
      const perRound = 6;
      for (let round = 0; round < rounds; round++) {
        const account = `race-activate-${round}`;
        const ids: string[] = [];
        for (let i = 0; i < perRound; i++) ids.push(await propose(account));
        for (const id of ids) expect((await transition('approve', id)).data?.r?.ok).toBe(true);
        const results = await Promise.all(ids.map((id) => transition('activate', id)));
        figures.add('parallel activations sent', results.length);
        expect(results.flatMap((r) => contractViolations(r))).toEqual([]);
        for (const r of results) figures.tally('activation race outcome', r.data?.r?.ok === true ? 'ok' : r.data?.r ? `ok:false ${r.data.r.reasons.map((x) => x.code).join(',')}` : String(firstCode(r)));
        expect(results.filter((r) => r.data?.r?.ok === true).length).toBe(1);
        for (const r of results.filter((x) => x.data?.r?.ok !== true)) {
          if (r.data?.r) expect(r.data.r.reasons.map((x) => x.code)).toEqual(['CONFLICT_ACTIVE_PLAN']);
          else expect(firstCode(r)).toBe('CONFLICT');
        }
        const active = await server.db.collection('plans').countDocuments({ tenant_id: 'race', account_id: account, plan_status: 'ACTIVE' });
        expect(active).toBe(1);
        const activated = await server.db.collection('plan_ledger').countDocuments({ tenant_id: 'race', account_id: account, event_type: 'PLAN_ACTIVATED' });
        expect(activated).toBe(1);
      }
    },
    90_000,
  );

  it(
    'keeps one outcome when pause, abort and resume race on one ACTIVE plan, and every chain stays valid',
    async () => {
      for (let round = 0; round < 3; round++) {
        const planId = await propose(`race-mixed-${round}`);
        await transition('approve', planId);
        await transition('activate', planId);
        const ops: (keyof typeof TRANSITIONS)[] = ['pause', 'abort', 'pause', 'abort', 'resume', 'pause', 'abort', 'resume'];
        const results = await Promise.all(ops.map((op) => transition(op, planId)));
        figures.add('mixed lifecycle race requests', results.length);
        expect(results.flatMap((r) => contractViolations(r))).toEqual([]);
        const stored = await server.db.collection('plans').findOne({ _id: planId } as never);
        const story = (await server.db.collection('plan_ledger').find({ plan_id: planId }).sort({ seq: 1 }).toArray()).map((e) => e.event_type);
        // Every acknowledged move is in the story, once per acknowledgement.
        const acked = results.map((r, i) => (r.data?.r?.ok ? ops[i] : null)).filter(Boolean);
        const eventOf = { pause: 'PLAN_PAUSED', abort: 'PLAN_ABORTED', resume: 'PLAN_RESUMED' } as Record<string, string>;
        for (const op of new Set(acked)) expect(story.filter((e) => e === eventOf[op as string]).length).toBe(acked.filter((a) => a === op).length);
        expect(story.filter((e) => e === 'PLAN_ABORTED').length).toBeLessThanOrEqual(1);
        expect(stored?.plan_status).toBeDefined();
      }
      const audit = await auditLedgers(server.db);
      expect(audit.problems).toEqual([]);
      figures.set('final store audit: plans / entries / problems', `${audit.plans} / ${audit.entries} / ${audit.problems.length}`);
    },
    60_000,
  );
});
