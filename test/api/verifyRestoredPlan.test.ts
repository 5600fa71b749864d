import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestServer, type TestServer } from '../support/testServer.js';

// verifyPlanLedger reads the plan as plan(planId) does: a plan whose document a crash lost
// (between createPlan's ledger insert and its plan insert) is restored from the copy in its
// PLAN_CREATED entry and verified, not answered NOT_FOUND.
describe('verifyPlanLedger on a plan a crash left without its document (real server, real store)', () => {
  let server: TestServer;
  let proposer: string;
  let viewer: string;

  beforeAll(async () => {
    server = await startTestServer();
    proposer = await server.token('acme', ['plan-proposer'], 'paula');
    viewer = await server.token('acme', ['plan-viewer'], 'vera');
  });
  afterAll(async () => {
    await server.close();
  });

  const proposeThenLoseDocument = async (accountId: string): Promise<string> => {
    const res = await server.gql<{ proposePlan: { plan: { planId: string } } }>(
      'mutation($input: ProposePlanInput!) { proposePlan(input: $input) { plan { planId } } }',
      { input: { accountId, planType: 'RENEWAL_DEFENSE', signals: [{ type: 'CHAMPION_LEFT' }] } },
      proposer,
    );
    const planId = res.data!.proposePlan.plan.planId;
    const created = await server.db.collection('plan_ledger').findOne({ plan_id: planId, event_type: 'PLAN_CREATED' });
    expect(created?.created_plan).toBeTruthy();
    expect((await server.db.collection('plans').deleteOne({ _id: planId } as never)).deletedCount).toBe(1);
    return planId;
  };
  const verify = (planId: string, token = viewer) =>
    server.gql<{ verifyPlanLedger: { planId: string; valid: boolean; entries: number; brokenAtSeq: number | null } | null }>(
      'query($id: ID!) { verifyPlanLedger(planId: $id) { planId valid entries brokenAtSeq } }',
      { id: planId },
      token,
    );

  it('restores the plan and verifies its chain', async () => {
    const planId = await proposeThenLoseDocument('acct-lost-1');
    const res = await verify(planId);
    expect(res.errors).toBeUndefined();
    expect(res.data?.verifyPlanLedger).toEqual({ planId, valid: true, entries: 1, brokenAtSeq: null });
    expect(await server.db.collection('plans').countDocuments({ _id: planId } as never)).toBe(1);
  });

  it('answers as plan(planId) answers: both find the plan, and another tenant finds neither', async () => {
    const planId = await proposeThenLoseDocument('acct-lost-2');
    const outsider = await server.token('globex', ['plan-viewer'], 'otto');
    const otherVerify = await verify(planId, outsider);
    expect(otherVerify.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const plan = await server.gql<{ plan: { planId: string } | null }>('query($id: ID!) { plan(planId: $id) { planId } }', { id: planId }, outsider);
    expect(plan.data?.plan).toBeNull();
    expect((await verify(planId)).data?.verifyPlanLedger?.valid).toBe(true);
  });
});
