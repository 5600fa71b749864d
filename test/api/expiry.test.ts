import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestServer, type TestServer } from '../support/testServer.js';

// Expiry (docs/lifecycle.md, "Expiry"): an APPROVED or ACTIVE plan past expiresAt is EXPIRED by the time anyone
// looks, with one PLAN_EXPIRED event by system:expiry, and never blocks another plan. Time
// passing is simulated by moving a stored plan's expires_at into the past.

interface Reason {
  code: string;
  message: string;
}

describe('expiry and the activation check (real server, real store)', () => {
  let server: TestServer;
  let proposer: string;
  let approver: string;
  let viewer: string;

  beforeAll(async () => {
    server = await startTestServer();
    proposer = await server.token('acme', ['plan-proposer'], 'paula');
    approver = await server.token('acme', ['plan-approver'], 'arthur');
    viewer = await server.token('acme', ['plan-viewer'], 'vera');
  });
  afterAll(async () => {
    await server.close();
  });

  const propose = async (accountId: string): Promise<string> => {
    const res = await server.gql<{ proposePlan: { plan: { planId: string } } }>(
      'mutation($input: ProposePlanInput!) { proposePlan(input: $input) { plan { planId } } }',
      { input: { accountId, planType: 'RENEWAL_DEFENSE', signals: [{ type: 'CHAMPION_LEFT' }] } },
      proposer,
    );
    return res.data!.proposePlan.plan.planId;
  };
  const move = async (mutation: 'approvePlan' | 'activatePlan' | 'pausePlan' | 'resumePlan' | 'abortPlan', planId: string) => {
    const args = { approvePlan: '', activatePlan: ', preconditionsMet: true', resumePlan: ', preconditionsMet: true', pausePlan: ', reason: "hold"', abortPlan: ', reason: "stop"' }[mutation];
    return server.gql<{ r: { ok: boolean; reasons: Reason[]; plan: { status: string } | null } }>(
      `mutation($id: ID!) { r: ${mutation}(planId: $id${args}) { ok reasons { code message } plan { status } } }`,
      { id: planId },
      approver,
    );
  };
  const planAt = async (accountId: string, status: 'DRAFT' | 'APPROVED' | 'ACTIVE' | 'PAUSED' | 'ABORTED'): Promise<string> => {
    const planId = await propose(accountId);
    const path = { DRAFT: [], APPROVED: ['approvePlan'], ACTIVE: ['approvePlan', 'activatePlan'], PAUSED: ['approvePlan', 'activatePlan', 'pausePlan'], ABORTED: ['approvePlan', 'abortPlan'] } as const;
    for (const mutation of path[status]) expect((await move(mutation, planId)).data?.r.ok).toBe(true);
    return planId;
  };
  /** Time passes: the plan's expiry is now behind us (nothing else about it changes). */
  const pastExpiry = (planId: string) => server.db.collection('plans').updateOne({ _id: planId } as never, { $set: { expires_at: new Date(Date.now() - 1000) } });
  const storedStatus = async (planId: string) => (await server.db.collection('plans').findOne({ _id: planId } as never))?.plan_status;
  const expiredEvents = (planId: string) => server.db.collection('plan_ledger').find({ plan_id: planId, event_type: 'PLAN_EXPIRED' }).toArray();
  const check = async (planId: string, token = viewer) =>
    (await server.gql<{ planActivationCheck: { canActivate: boolean; reasons: Reason[] } }>('query($id: ID!) { planActivationCheck(planId: $id, preconditionsMet: true) { canActivate reasons { code message } } }', { id: planId }, token)).data
      ?.planActivationCheck;

  it('reads an ACTIVE plan past its expiry as EXPIRED, recorded once by system:expiry', async () => {
    const planId = await planAt('acct-read', 'ACTIVE');
    await pastExpiry(planId);
    const res = await server.gql<{ plan: { status: string; expiredAt: string | null } }>('query($id: ID!) { plan(planId: $id) { status expiredAt } }', { id: planId }, viewer);
    expect(res.data?.plan.status).toBe('EXPIRED');
    expect(res.data?.plan.expiredAt).not.toBeNull();
    expect(await storedStatus(planId)).toBe('EXPIRED');
    const events = await expiredEvents(planId);
    expect(events.map((e) => ({ actor: e.actor, from: e.data.from, trigger: e.data.trigger, touched_by: e.data.touched_by }))).toEqual([
      { actor: 'system:expiry', from: 'ACTIVE', trigger: 'expired_on_read', touched_by: 'vera' },
    ]);
    // Reading again changes nothing more.
    await server.gql('query($id: ID!) { plan(planId: $id) { status } }', { id: planId }, viewer);
    expect(await expiredEvents(planId)).toHaveLength(1);
    const verified = await server.gql<{ verifyPlanLedger: { valid: boolean } }>('query($id: ID!) { verifyPlanLedger(planId: $id) { valid } }', { id: planId }, viewer);
    expect(verified.data?.verifyPlanLedger.valid).toBe(true);
  });

  it('expires an APPROVED plan in a list, and leaves it out of a list of APPROVED plans', async () => {
    const planId = await planAt('acct-list', 'APPROVED');
    const kept = await planAt('acct-list', 'APPROVED');
    await pastExpiry(planId);
    const approved = await server.gql<{ plans: { edges: { node: { planId: string; status: string } }[] } }>(
      '{ plans(filter: { accountId: "acct-list", status: [APPROVED] }) { edges { node { planId status } } } }',
      {},
      viewer,
    );
    expect(approved.data?.plans.edges.map((e) => e.node)).toEqual([{ planId: kept, status: 'APPROVED' }]);
    const all = await server.gql<{ plans: { edges: { node: { planId: string; status: string } }[] } }>('{ plans(filter: { accountId: "acct-list" }) { edges { node { planId status } } } }', {}, viewer);
    expect(all.data?.plans.edges.map((e) => e.node)).toEqual(expect.arrayContaining([{ planId, status: 'EXPIRED' }, { planId: kept, status: 'APPROVED' }]));
    expect((await expiredEvents(planId)).map((e) => e.data.from)).toEqual(['APPROVED']);
  });

  it('writes one PLAN_EXPIRED when many readers, writers and the sweep expire the same plan at once', async () => {
    for (let round = 0; round < 3; round++) {
      const planId = await planAt(`acct-race-${round}`, 'ACTIVE');
      await pastExpiry(planId);
      const results = await Promise.all([
        server.gql('query($id: ID!) { plan(planId: $id) { status } }', { id: planId }, viewer),
        server.gql('query($id: ID!) { plan(planId: $id) { status } }', { id: planId }, approver),
        server.gql(`{ plans(filter: { accountId: "acct-race-${round}" }) { edges { node { status } } } }`, {}, viewer),
        check(planId),
        move('pausePlan', planId),
        server.running.services.expiry.sweep(),
      ]);
      expect(results[0]).toMatchObject({ data: { plan: { status: 'EXPIRED' } } });
      expect(results[1]).toMatchObject({ data: { plan: { status: 'EXPIRED' } } });
      expect(results[4]).toMatchObject({ errors: [{ extensions: { code: 'INVALID_TRANSITION' } }] });
      expect(await expiredEvents(planId)).toHaveLength(1);
      const story = await server.db.collection('plan_ledger').find({ plan_id: planId }).sort({ seq: 1 }).toArray();
      expect(story.map((e) => e.event_type)).toEqual(['PLAN_CREATED', 'PLAN_APPROVED', 'PLAN_ACTIVATED', 'PLAN_EXPIRED']);
      expect((await server.db.collection('plans').findOne({ _id: planId } as never))?.pending_event ?? null).toBeNull();
    }
  });

  it('never lets an expired plan block activating another plan of the account', async () => {
    const stale = await planAt('acct-slot', 'ACTIVE');
    const next = await planAt('acct-slot', 'APPROVED');
    expect((await check(next))?.reasons.map((r) => r.code)).toEqual(['CONFLICT_ACTIVE_PLAN']);
    // The stale plan is still ACTIVE in the store and still holds the active slot.
    await pastExpiry(stale);
    expect(await storedStatus(stale)).toBe('ACTIVE');
    expect(await check(next)).toEqual({ canActivate: true, reasons: [] });
    const activated = await move('activatePlan', next);
    expect(activated.data?.r).toMatchObject({ ok: true, plan: { status: 'ACTIVE' } });
    expect(await storedStatus(stale)).toBe('EXPIRED');
    expect(await expiredEvents(stale)).toHaveLength(1);
  });

  it('frees the active slot in the sweep without anyone reading the plan', async () => {
    const stale = await planAt('acct-sweep', 'ACTIVE');
    await pastExpiry(stale);
    expect(await server.running.services.expiry.sweep()).toBeGreaterThanOrEqual(1);
    const stored = await server.db.collection('plans').findOne({ _id: stale } as never);
    expect({ status: stored?.plan_status, slot: stored?.active_slot, pending: stored?.pending_event ?? null }).toEqual({ status: 'EXPIRED', slot: stale, pending: null });
    expect((await expiredEvents(stale)).map((e) => ({ actor: e.actor, trigger: e.data.trigger }))).toEqual([{ actor: 'system:expiry', trigger: 'expired_by_sweep' }]);
    // A second sweep finds nothing of it to do.
    await server.running.services.expiry.sweep();
    expect(await expiredEvents(stale)).toHaveLength(1);
  });

  it('planActivationCheck answers exactly what activatePlan does, with a reason for a status that does not allow it', async () => {
    const expired = await planAt('acct-check', 'APPROVED');
    await pastExpiry(expired);
    const cases = [
      await planAt('acct-check-draft', 'DRAFT'),
      await planAt('acct-check-aborted', 'ABORTED'),
      await planAt('acct-check-paused', 'PAUSED'),
      await planAt('acct-check-active', 'ACTIVE'),
      expired,
    ];
    for (const planId of cases) {
      const answer = await check(planId);
      expect(answer?.canActivate).toBe(false);
      expect(answer?.reasons).toHaveLength(1);
      expect(answer?.reasons[0]?.code).toBe('INVALID_TRANSITION');
      const acted = await move('activatePlan', planId);
      expect(acted.errors?.[0]?.extensions?.code).toBe('INVALID_TRANSITION');
      expect(acted.errors?.[0]?.message).toBe(answer?.reasons[0]?.message);
    }
    expect((await check(cases[2] as string))?.reasons[0]?.message).toMatch(/resumePlan/);
    expect((await check(expired))?.reasons[0]?.message).toBe('cannot activate a plan that is EXPIRED');
    const ready = await planAt('acct-check-ready', 'APPROVED');
    expect(await check(ready)).toEqual({ canActivate: true, reasons: [] });
    expect((await move('activatePlan', ready)).data?.r.ok).toBe(true);
  });

  it('shows a replayed proposal as it is now (expired) and leaves an expired plan out of openPlans', async () => {
    const proposeKeyed = (key: string) =>
      server.gql<{ proposePlan: { replayed: boolean; plan: { planId: string; status: string }; openPlans: { planId: string; status: string }[] } }>(
        'mutation($input: ProposePlanInput!) { proposePlan(input: $input) { replayed plan { planId status } openPlans { planId status } } }',
        { input: { accountId: 'acct-replay', planType: 'RENEWAL_DEFENSE', signals: [{ type: 'CHAMPION_LEFT' }], idempotencyKey: key } },
        proposer,
      );
    const first = (await proposeKeyed('expiring-1')).data!.proposePlan;
    expect((await move('approvePlan', first.plan.planId)).data?.r.ok).toBe(true);
    await pastExpiry(first.plan.planId);
    const replayed = (await proposeKeyed('expiring-1')).data!.proposePlan;
    expect(replayed).toMatchObject({ replayed: true, plan: { planId: first.plan.planId, status: 'EXPIRED' } });
    expect(await expiredEvents(first.plan.planId)).toHaveLength(1);

    const expiring = await planAt('acct-replay', 'APPROVED');
    await pastExpiry(expiring);
    const next = (await proposeKeyed('expiring-2')).data!.proposePlan;
    expect(next.replayed).toBe(false);
    expect(next.openPlans.map((p) => p.planId)).not.toContain(expiring);
    expect(next.openPlans.map((p) => p.planId)).not.toContain(first.plan.planId);
    expect(await storedStatus(expiring)).toBe('EXPIRED');
  });
});
