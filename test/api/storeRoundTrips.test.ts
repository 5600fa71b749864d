import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CommandStartedEvent, Document } from 'mongodb';
import { PLANS_COLLECTION, PLAN_LEDGER_COLLECTION } from '../../src/store/indexes.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

// The store commands each mutation sends, counted on the driver's command events of the real
// service (docs/store.md, "Round trips", has the table this asserts). A new read or write on a
// hot path fails here, and so does a lost one (the protocol's writes are part of the count).

const SIGNALS = [
  { type: 'RENEWAL_WINDOW', days_to_renewal: 45, renewal_date: '2027-01-07' },
  { type: 'SUPPORT_RISK', severity: 'HIGH', open_escalations: 2 },
];
const STORE_COLLECTIONS = new Set<unknown>([PLANS_COLLECTION, PLAN_LEDGER_COLLECTION]);

describe('store round trips per mutation', () => {
  let server: TestServer;
  let proposer: string;
  let approver: string;
  const sent: CommandStartedEvent[] = [];
  const listener = (e: CommandStartedEvent) => {
    if (STORE_COLLECTIONS.has((e.command as Document)[e.commandName])) sent.push(e);
  };

  beforeAll(async () => {
    // The sealer and the counts' tally job are off so that nothing else of the service talks to the store meanwhile.
    server = await startTestServer({ LEDGER_SEALER: 'off', PLAN_COUNTS_TALLY: 'off' });
    proposer = await server.token('rt', ['plan-proposer'], 'paula');
    approver = await server.token('rt', ['plan-approver'], 'arthur');
    server.running.mongo.client.on('commandStarted', listener);
  });
  afterAll(async () => {
    server.running.mongo.client.off('commandStarted', listener);
    await server.close();
  });

  /** The commands `query` sends, as "name collection" lines. */
  async function commandsOf(query: string, variables: Record<string, unknown>, token: string): Promise<{ data: Record<string, unknown>; commands: string[] }> {
    sent.length = 0;
    const res = await server.gql<Record<string, { ok?: boolean }>>(query, variables, token);
    expect(res.errors).toBeUndefined();
    const commands = sent.map((e) => `${e.commandName} ${String((e.command as Document)[e.commandName])}`);
    return { data: res.data ?? {}, commands };
  }

  it('propose, update, approve, activate and pause each send exactly their protocol', async () => {
    const proposed = await commandsOf(
      'mutation($input: ProposePlanInput!) { proposePlan(input: $input) { plan { planId } } }',
      { input: { accountId: 'acct-rt', planType: 'RENEWAL_DEFENSE', signals: SIGNALS } },
      proposer,
    );
    const planId = (proposed.data.proposePlan as { plan: { planId: string } }).plan.planId;
    const move = (mutation: string, args = '') =>
      commandsOf(`mutation($id: ID!) { r: ${mutation}(planId: $id${args}) { ok plan { status } } }`, { id: planId }, mutation === 'updateDraftPlan' ? proposer : approver);
    const updated = await move('updateDraftPlan', ', input: { objective: "Keep the account, edited" }');
    const approved = await move('approvePlan');
    const activated = await move('activatePlan', ', preconditionsMet: true');
    const paused = await move('pausePlan');
    for (const r of [updated, approved, activated, paused]) expect((r.data.r as { ok: boolean }).ok).toBe(true);
    const counts = { propose: proposed.commands, update: updated.commands, approve: approved.commands, activate: activated.commands, pause: paused.commands };
    expect(counts).toEqual(EXPECTED);
  });

  it('step moves and completePlan send the protocol of a transition', async () => {
    const proposed = await commandsOf(
      'mutation($input: ProposePlanInput!) { proposePlan(input: $input) { plan { planId steps { stepId } } } }',
      { input: { accountId: 'acct-rt-steps', planType: 'RENEWAL_DEFENSE', signals: SIGNALS } },
      proposer,
    );
    const { planId, steps } = (proposed.data.proposePlan as { plan: { planId: string; steps: { stepId: string }[] } }).plan;
    for (const m of ['approvePlan', 'activatePlan']) {
      await commandsOf(`mutation($id: ID!) { r: ${m}(planId: $id${m === 'activatePlan' ? ', preconditionsMet: true' : ''}) { ok } }`, { id: planId }, approver);
    }
    const onStep = (mutation: string, stepId: string, args = '') =>
      commandsOf(`mutation($id: ID!, $s: ID!) { r: ${mutation}(planId: $id, stepId: $s${args}) { ok plan { status } } }`, { id: planId, s: stepId }, proposer);
    const [first, second] = steps;
    const counts = {
      assign: (await onStep('assignStep', first!.stepId, ', assignee: "alice"')).commands,
      start: (await onStep('startStep', first!.stepId)).commands,
      complete: (await onStep('completeStep', first!.stepId, ', note: "done"')).commands,
      skip: (await onStep('skipStep', second!.stepId, ', reason: "not needed"')).commands,
      completePlan: (await commandsOf('mutation($id: ID!) { r: completePlan(planId: $id) { ok } }', { id: planId }, approver)).commands,
    };
    expect(counts).toEqual({ assign: CHANGE, start: CHANGE, complete: CHANGE, skip: CHANGE, completePlan: CHANGE });
  });
});

/**
 * A change of an existing plan, after the service's read of it (which the store passes on):
 * the conditional write with the outbox, the entry (the previous one's hash is in the plan
 * document), clearing the outbox.
 */
const CHANGE = ['find plans', 'findAndModify plans', 'insert plan_ledger', 'update plans'];
const EXPECTED = {
  propose: ['insert plan_ledger', 'insert plans'],
  update: CHANGE,
  approve: CHANGE,
  // The gate's look at the account's ACTIVE plans of the type.
  activate: ['find plans', 'find plans', ...CHANGE.slice(1)],
  pause: CHANGE,
};
