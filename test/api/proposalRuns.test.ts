import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { waitUntil } from '../support/reliability.js';
import {
  ADD_ITEMS,
  CANCEL_RUN,
  CREATE_RUN,
  GET_RUN,
  RUN_ITEMS,
  START_RUN,
  runItem,
  sumOfOutcomes,
  type RunItemView,
  type RunView,
} from '../support/proposalRuns.js';

/** Runs over the real service and the real store: lifecycle, dedup, dry runs, paging, roles. */
describe('proposal runs (API, real service and store)', () => {
  let server: TestServer;
  let proposer: string;
  let viewer: string;
  let otherTenant: string;

  beforeAll(async () => {
    server = await startTestServer({ PROPOSAL_RUN_POLL_MS: '100' });
    proposer = await server.token('acme', ['plan-proposer'], 'paula');
    viewer = await server.token('acme', ['plan-viewer'], 'vera');
    otherTenant = await server.token('globex', ['plan-proposer'], 'mallory');
  }, 60_000);
  afterAll(async () => {
    await server.close();
  });

  const create = async (dryRun: boolean, token = proposer): Promise<RunView> => {
    const res = await server.gql<{ createProposalRun: RunView }>(CREATE_RUN, { dryRun }, token);
    expect(res.errors).toBeUndefined();
    return res.data!.createProposalRun;
  };
  const add = (runId: string, items: unknown[], token = proposer) => server.gql<{ addProposalRunItems: RunView }>(ADD_ITEMS, { runId, items }, token);
  const get = async (runId: string, token = proposer): Promise<RunView | null> =>
    (await server.gql<{ proposalRun: RunView | null }>(GET_RUN, { runId }, token)).data!.proposalRun;
  const items = async (runId: string, vars: Record<string, unknown> = {}) => {
    const res = await server.gql<{ proposalRun: { items: { edges: { cursor: string; node: RunItemView }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } }>(
      RUN_ITEMS,
      { runId, first: 500, ...vars },
      proposer,
    );
    expect(res.errors).toBeUndefined();
    return res.data!.proposalRun.items;
  };
  const runToEnd = async (runId: string): Promise<RunView> => {
    const started = await server.gql<{ startProposalRun: RunView }>(START_RUN, { runId }, proposer);
    expect(started.errors).toBeUndefined();
    expect(started.data!.startProposalRun.status).toBe('RUNNING');
    let last: RunView | null = null;
    await waitUntil('the run to complete', async () => (last = await get(runId))?.status === 'COMPLETED', 30_000);
    return last!;
  };

  it('creates plans for each account once, records the run in PLAN_CREATED, skips duplicates and open plans', async () => {
    const run = await create(false);
    expect(run).toMatchObject({ status: 'OPEN', dryRun: false, createdBy: 'paula', startedAt: null, finishedAt: null });
    const accounts = Array.from({ length: 12 }, (_, i) => `run-acct-${i}`);
    const added = await add(run.runId, [...accounts.map((a) => runItem(a)), runItem('run-acct-3')]);
    expect(added.errors).toBeUndefined();
    expect(added.data!.addProposalRunItems.counts).toMatchObject({ total: 13, pending: 13 });

    const done = await runToEnd(run.runId);
    expect(done.counts).toEqual({ total: 13, pending: 0, created: 12, wouldCreate: 0, skippedOpenPlan: 0, skippedDuplicate: 1, rejected: 0, failed: 0 });
    expect(new Date(done.finishedAt!).getTime()).toBeGreaterThanOrEqual(new Date(done.startedAt!).getTime());

    const all = (await items(run.runId)).edges.map((e) => e.node);
    expect(all.map((i) => i.accountId)).toEqual([...accounts, 'run-acct-3']);
    expect(all.at(-1)).toMatchObject({ outcome: 'SKIPPED_DUPLICATE', planId: null });
    const created = all.filter((i) => i.outcome === 'CREATED');
    expect(new Set(created.map((i) => i.planId)).size).toBe(12);
    for (const item of created) {
      expect(item.source).toBe('RULES');
      expect(item.steps!.length).toBeGreaterThan(0);
    }
    // Exactly one plan and one PLAN_CREATED entry per account, each naming the run.
    const plans = await server.db.collection('plans').find({ tenant_id: 'acme', account_id: { $in: accounts } }).toArray();
    expect(plans).toHaveLength(12);
    const entries = await server.db.collection('plan_ledger').find({ tenant_id: 'acme', account_id: { $in: accounts }, event_type: 'PLAN_CREATED' }).toArray();
    expect(entries).toHaveLength(12);
    for (const e of entries) expect((e.data as { run_id?: string }).run_id).toBe(run.runId);

    // A second real run over the same accounts creates nothing: each has its open plan.
    const second = await create(false);
    await add(second.runId, accounts.map((a) => runItem(a)));
    const secondDone = await runToEnd(second.runId);
    expect(secondDone.counts).toMatchObject({ total: 12, created: 0, skippedOpenPlan: 12 });
    const skipped = (await items(second.runId, { outcome: 'SKIPPED_OPEN_PLAN' })).edges.map((e) => e.node);
    const planOf = new Map(created.map((i) => [i.accountId, i.planId]));
    for (const item of skipped) expect(item.planId).toBe(planOf.get(item.accountId));
    expect(await server.db.collection('plans').countDocuments({ tenant_id: 'acme', account_id: { $in: accounts } })).toBe(12);
  }, 90_000);

  it('a dry run writes no plan and no ledger entry: WOULD_CREATE with steps, source and warnings', async () => {
    const plansBefore = await server.db.collection('plans').countDocuments({});
    const ledgerBefore = await server.db.collection('plan_ledger').countDocuments({});
    const run = await create(true);
    await add(run.runId, [runItem('dry-1'), runItem('dry-2', { signals: [{ type: 'NOT_A_SIGNAL' }] }), runItem('run-acct-0')]);
    const done = await runToEnd(run.runId);
    expect(done.counts).toMatchObject({ total: 3, wouldCreate: 2, skippedOpenPlan: 1, created: 0, pending: 0 });
    const all = (await items(run.runId)).edges.map((e) => e.node);
    expect(all[0]).toMatchObject({ outcome: 'WOULD_CREATE', planId: null, source: 'RULES' });
    expect(all[0]!.steps!.length).toBeGreaterThan(0);
    expect(all[1]!.warnings.map((w) => w.code)).toContain('UNKNOWN_SIGNAL_TYPE');
    expect(all[1]!.warnings[0]!.path).toBe('signals[0]');
    expect(await server.db.collection('plans').countDocuments({})).toBe(plansBefore);
    expect(await server.db.collection('plan_ledger').countDocuments({})).toBe(ledgerBefore);
  }, 60_000);

  it('validates every item as proposePlan does: a bad item names its index and nothing is added', async () => {
    const run = await create(false);
    const bad = await add(run.runId, [runItem('ok-1'), runItem('ok-2'), { accountId: 'has space', planType: 'RENEWAL_DEFENSE' }]);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.message).toContain('items[2].accountId');
    const tooMany = await add(run.runId, Array.from({ length: 501 }, (_, i) => runItem(`many-${i}`)));
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const foreign = await add(run.runId, [runItem('x', { tenantId: 'globex' })]);
    expect(foreign.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await get(run.runId))!.counts.total).toBe(0);
  });

  it('pages items in order, filtered by outcome, and keeps counts adding up', async () => {
    const run = await create(true);
    const accounts = Array.from({ length: 7 }, (_, i) => `page-${i}`);
    await add(run.runId, [...accounts.map((a) => runItem(a)), runItem('page-0'), runItem('page-1')]);
    await runToEnd(run.runId);
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page = await items(run.runId, { first: 3, after });
      seen.push(...page.edges.map((e) => e.node.accountId));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(seen).toEqual([...accounts, 'page-0', 'page-1']);
    const dups = await items(run.runId, { outcome: 'SKIPPED_DUPLICATE', first: 1 });
    expect(dups.edges.map((e) => e.node.accountId)).toEqual(['page-0']);
    const rest = await items(run.runId, { outcome: 'SKIPPED_DUPLICATE', after: dups.pageInfo.endCursor });
    expect(rest.edges.map((e) => e.node.accountId)).toEqual(['page-1']);
    const counts = (await get(run.runId))!.counts;
    expect(sumOfOutcomes(counts)).toBe(counts.total);
    expect(counts).toMatchObject({ total: 9, wouldCreate: 7, skippedDuplicate: 2 });
  }, 60_000);

  it('moves only along OPEN -> RUNNING -> COMPLETED | CANCELLED; a started run takes no items', async () => {
    const run = await create(true);
    await add(run.runId, [runItem('c-1')]);
    const cancelled = await server.gql<{ cancelProposalRun: RunView }>(CANCEL_RUN, { runId: run.runId }, proposer);
    expect(cancelled.data!.cancelProposalRun).toMatchObject({ status: 'CANCELLED', counts: { total: 1, pending: 1 } });
    expect(cancelled.data!.cancelProposalRun.finishedAt).not.toBeNull();
    const restart = await server.gql(START_RUN, { runId: run.runId }, proposer);
    expect(restart.errors?.[0]?.extensions?.code).toBe('INVALID_TRANSITION');
    const late = await add(run.runId, [runItem('c-2')]);
    expect(late.errors?.[0]?.extensions?.code).toBe('INVALID_TRANSITION');
    const missing = await server.gql(START_RUN, { runId: 'no-such-run' }, proposer);
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('holds at most 100,000 items; concurrent adds get distinct positions', async () => {
    const run = await create(true);
    await Promise.all([0, 1, 2, 3].map((k) => add(run.runId, Array.from({ length: 100 }, (_, i) => runItem(`conc-${k}-${i}`)))));
    const indexes = await server.db.collection('proposal_run_items').distinct('index', { run_id: run.runId });
    expect(indexes).toHaveLength(400);
    expect((await get(run.runId))!.counts.total).toBe(400);
    // Near the cap (positions handed out, as after 99,999 items), two more do not fit.
    await server.db.collection('proposal_runs').updateOne({ _id: run.runId as never }, { $set: { next_index: 99_999 } });
    const over = await add(run.runId, [runItem('cap-1'), runItem('cap-2')]);
    expect(over.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(over.errors?.[0]?.message).toContain('100000');
    const fits = await add(run.runId, [runItem('cap-3')]);
    expect(fits.errors).toBeUndefined();
    expect(fits.data!.addProposalRunItems.counts.total).toBe(401);
  }, 60_000);

  it('cancelling a RUNNING run stops it: items done stay done, the rest stay PENDING', async () => {
    const run = await create(true);
    for (let i = 0; i < 4; i++) await add(run.runId, Array.from({ length: 500 }, (_, j) => runItem(`cancel-${i * 500 + j}`)));
    await server.gql(START_RUN, { runId: run.runId }, proposer);
    await waitUntil('some items done', async () => (await get(run.runId))!.counts.wouldCreate > 0, 30_000, 20);
    const cancelled = await server.gql<{ cancelProposalRun: RunView }>(CANCEL_RUN, { runId: run.runId }, proposer);
    expect(cancelled.data!.cancelProposalRun.status).toBe('CANCELLED');
    await new Promise((r) => setTimeout(r, 1500)); // items in flight at the cancel settle
    const settled = (await get(run.runId))!.counts;
    await new Promise((r) => setTimeout(r, 1500));
    const later = (await get(run.runId))!;
    expect(later.status).toBe('CANCELLED');
    expect(later.counts).toEqual(settled);
    expect(later.counts.pending).toBeGreaterThan(0);
    expect(later.counts.wouldCreate).toBeGreaterThan(0);
    expect(sumOfOutcomes(later.counts)).toBe(2000);
  }, 90_000);

  it('runs belong to the tenant; creating and changing one needs plan-proposer', async () => {
    const run = await create(true);
    expect(await get(run.runId, otherTenant)).toBeNull();
    const foreignAdd = await add(run.runId, [runItem('t-1')], otherTenant);
    expect(foreignAdd.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const viewerCreate = await server.gql(CREATE_RUN, { dryRun: true }, viewer);
    expect(viewerCreate.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await get(run.runId, viewer))!.runId).toBe(run.runId);
    const list = await server.gql<{ proposalRuns: { edges: { node: { runId: string; id: string } }[] } }>('{ proposalRuns(first: 100) { edges { node { runId id } } } }', {}, proposer);
    const id = list.data!.proposalRuns.edges.find((e) => e.node.runId === run.runId)!.node.id;
    // A run is a Node: its global id finds it in its tenant, and nothing in another.
    const NODE = 'query($id: ID!) { node(id: $id) { id ... on ProposalRun { runId status } } }';
    const found = await server.gql<{ node: { id: string; runId: string } | null }>(NODE, { id }, viewer);
    expect(found.data!.node).toMatchObject({ id, runId: run.runId });
    const foreign = await server.gql<{ node: unknown }>(NODE, { id }, otherTenant);
    expect(foreign.data!.node).toBeNull();
    // So is each item: refetched by its global id in its tenant only, as a viewer.
    await add(run.runId, [runItem('node-item-1')]);
    const item = (await items(run.runId)).edges[0]!.node;
    const ITEM_NODE = 'query($ids: [ID!]!) { nodes(ids: $ids) { id ... on ProposalRunItem { itemId accountId outcome } } }';
    const refetched = await server.gql<{ nodes: ({ id: string; itemId: string; accountId: string; outcome: string } | null)[] }>(ITEM_NODE, { ids: [item.id, id] }, viewer);
    expect(refetched.data!.nodes[0]).toEqual({ id: item.id, itemId: item.itemId, accountId: 'node-item-1', outcome: 'PENDING' });
    expect(refetched.data!.nodes[1]).toMatchObject({ id });
    expect(item.id).not.toBe(item.itemId);
    const foreignItem = await server.gql<{ nodes: unknown[] }>(ITEM_NODE, { ids: [item.id] }, otherTenant);
    expect(foreignItem.data!.nodes).toEqual([null]);
    const theirs = await server.gql<{ proposalRuns: { edges: { node: { runId: string } }[] } }>('{ proposalRuns(first: 100) { edges { node { runId } } } }', {}, otherTenant);
    expect(theirs.data!.proposalRuns.edges.map((e) => e.node.runId)).not.toContain(run.runId);
  });
});
