import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fakeReplies, startFakeGemini, type FakeGemini } from '../support/fakeGemini.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { waitUntil } from '../support/reliability.js';
import { ADD_ITEMS, CREATE_RUN, GET_RUN, RUN_ITEMS, START_RUN, runItem, type RunItemView, type RunView } from '../support/proposalRuns.js';

/**
 * A run's items with the model configured (the real SDK against the fake Gemini): the model's
 * answer, a rejected answer, a failed call that falls back to the rules and says so, and 429s
 * that are waited out without failing anything. One item at a time, so replies meet items in order.
 */
describe('proposal runs with the model (fake Gemini through the real client)', () => {
  let fake: FakeGemini;
  let server: TestServer;
  let token: string;

  beforeAll(async () => {
    fake = await startFakeGemini();
    server = await startTestServer({
      GEMINI_API_KEY: 'test-key',
      GEMINI_MODEL: 'gemini-test',
      GEMINI_BASE_URL: fake.baseUrl,
      PROPOSAL_RUN_CONCURRENCY: '1',
      PROPOSAL_RUN_POLL_MS: '100',
    });
    token = await server.token('acme', ['plan-proposer'], 'paula');
  }, 60_000);
  afterAll(async () => {
    await server.close();
    await fake.close();
  });

  const run = async (dryRun: boolean, accounts: string[]) => {
    const created = await server.gql<{ createProposalRun: RunView }>(CREATE_RUN, { dryRun }, token);
    const runId = created.data!.createProposalRun.runId;
    await server.gql(ADD_ITEMS, { runId, items: accounts.map((a) => runItem(a)) }, token);
    await server.gql(START_RUN, { runId }, token);
    let view: RunView | undefined;
    await waitUntil('the run to complete', async () => (view = (await server.gql<{ proposalRun: RunView }>(GET_RUN, { runId }, token)).data?.proposalRun)?.status === 'COMPLETED', 60_000);
    const items = await server.gql<{ proposalRun: { items: { edges: { node: RunItemView }[] } } }>(RUN_ITEMS, { runId, first: 100 }, token);
    return { view: view!, items: items.data!.proposalRun.items.edges.map((e) => e.node) };
  };

  it('model answer, rejected answer, failed call (rules, with a warning saying so)', async () => {
    fake.reset();
    fake.enqueue(fakeReplies.goodPlan(), fakeReplies.emptySteps(), fakeReplies.httpError(500), fakeReplies.httpError(500));
    const { view, items } = await run(false, ['m-1', 'm-2', 'm-3']);
    expect(view.counts).toMatchObject({ total: 3, created: 2, rejected: 1, failed: 0 });
    expect(items[0]).toMatchObject({ outcome: 'CREATED', source: 'LLM', steps: ['REQUEST_RENEWAL_MEETING', 'PREP_RENEWAL_BRIEF', 'ESCALATE_SUPPORT_RISK'] });
    expect(items[0]!.warnings.map((w) => w.code)).not.toContain('MODEL_FALLBACK');
    expect(items[1]).toMatchObject({ outcome: 'REJECTED', planId: null });
    expect(items[1]!.error).toBeTruthy();
    expect(items[2]).toMatchObject({ outcome: 'CREATED', source: 'RULES' });
    expect(items[2]!.warnings).toContainEqual(expect.objectContaining({ code: 'MODEL_FALLBACK', message: expect.stringContaining('llm_server') }));
    // The fallback is in the plan's PLAN_CREATED entry as proposePlan records it.
    const entry = await server.db.collection('plan_ledger').findOne({ plan_id: items[2]!.planId, event_type: 'PLAN_CREATED' });
    expect(entry?.data).toMatchObject({ source: 'RULES', fallback_reason: 'llm_server' });
  }, 90_000);

  it('429s are waited out: the item gets the model answer and nothing fails', async () => {
    fake.reset();
    // The client's own retry meets the second 429; the limiter backs off and tries again.
    fake.enqueue(fakeReplies.httpError(429), fakeReplies.httpError(429));
    const { view, items } = await run(true, ['r-1', 'r-2']);
    expect(view.counts).toMatchObject({ total: 2, wouldCreate: 2, failed: 0 });
    expect(items.map((i) => i.source)).toEqual(['LLM', 'LLM']);
    expect(fake.requests).toHaveLength(4);
  }, 90_000);
});
