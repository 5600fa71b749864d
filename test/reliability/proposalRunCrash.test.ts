import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Db } from 'mongodb';
import { runItemPlanId } from '../../src/domain/proposalRuns.js';
import { openTestDb, type TestDb } from '../support/testDb.js';
import { auditLedgers, Figures, postGql, spawnServiceProcess, tokenFor, waitUntil, type ServiceProcess } from '../support/reliability.js';
import { ADD_ITEMS, CREATE_RUN, GET_RUN, START_RUN, runItem, sumOfOutcomes, type RunView } from '../support/proposalRuns.js';

/**
 * Proposal runs survive their instance: the service runs as its own process and is killed with
 * SIGKILL in the middle of a run. A restarted service (first test), or a second instance that
 * shared the store all along (second test), finishes the run: every item settled once, one plan
 * per item, each plan's PLAN_CREATED entry naming the run, every ledger chain whole.
 */

const ITEMS = 1500;
const SERVICE_ENV = { PROPOSAL_RUN_LEASE_MS: '3000', PROPOSAL_RUN_POLL_MS: '200', PROPOSAL_RUN_CONCURRENCY: '2', LEDGER_SEALER: 'off' };
const figures = new Figures('proposal runs: SIGKILL mid-run');

describe('reliability: a proposal run outlives its instance', () => {
  let testDb: TestDb;
  let db: Db;
  let token: string;
  const procs: ServiceProcess[] = [];

  const spawn = async () => {
    const proc = await spawnServiceProcess({ MONGODB_URI: testDb.uri, MONGODB_DB: testDb.dbName, ...SERVICE_ENV });
    procs.push(proc);
    return proc;
  };

  beforeAll(async () => {
    testDb = await openTestDb('runcrash');
    db = testDb.db;
    token = await tokenFor('crash', ['plan-proposer'], 'rita');
  }, 30_000);
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.stop()));
  }, 60_000);
  afterAll(async () => {
    figures.print();
    await testDb.close();
  }, 60_000);

  /** Creates and fills a run of ITEMS accounts (prefix-0 … ) and starts it. */
  const startRun = async (url: string, prefix: string): Promise<string> => {
    const created = await postGql<{ createProposalRun: RunView }>(url, CREATE_RUN, { dryRun: false }, { token });
    const runId = created.data!.createProposalRun.runId;
    for (let i = 0; i < ITEMS; i += 500) {
      const chunk = Array.from({ length: Math.min(500, ITEMS - i) }, (_, j) => runItem(`${prefix}-${i + j}`));
      const added = await postGql(url, ADD_ITEMS, { runId, items: chunk }, { token });
      expect(added.errors).toBeUndefined();
    }
    const started = await postGql(url, START_RUN, { runId }, { token });
    expect(started.errors).toBeUndefined();
    return runId;
  };
  const settledCount = (runId: string) => db.collection('proposal_run_items').countDocuments({ run_id: runId, outcome: { $ne: 'PENDING' } });
  const runView = async (url: string, runId: string) => (await postGql<{ proposalRun: RunView }>(url, GET_RUN, { runId }, { token })).data?.proposalRun;

  /** Everything a finished run must show: each item CREATED once, one plan each, chains whole. */
  const expectWholeRun = async (url: string, runId: string, prefix: string) => {
    const run = (await runView(url, runId))!;
    expect(run.status).toBe('COMPLETED');
    expect(run.counts).toMatchObject({ total: ITEMS, pending: 0, created: ITEMS, failed: 0 });
    expect(sumOfOutcomes(run.counts)).toBe(ITEMS);
    // A CREATED item's plan id is derived from the run and its position, not stored (docs/runs.md).
    const items = (await db.collection('proposal_run_items').find({ run_id: runId }).toArray()).map((i) => ({
      settled_by: i.settled_by as string,
      plan_id: (i.plan_id as string | null) ?? runItemPlanId(i.tenant_id as string, runId, i.index as number),
    }));
    expect(items).toHaveLength(ITEMS);
    expect(new Set(items.map((i) => i.plan_id)).size).toBe(ITEMS);
    const plans = await db.collection('plans').find({ account_id: { $regex: `^${prefix}-` } }).toArray();
    expect(plans).toHaveLength(ITEMS);
    expect(new Set(plans.map((p) => p._id))).toEqual(new Set(items.map((i) => i.plan_id)));
    const created = await db.collection('plan_ledger').find({ account_id: { $regex: `^${prefix}-` }, event_type: 'PLAN_CREATED' }).toArray();
    expect(created).toHaveLength(ITEMS);
    expect(created.every((e) => (e.data as { run_id?: string }).run_id === runId)).toBe(true);
    const audit = await auditLedgers(db);
    expect(audit.problems).toEqual([]);
    return items;
  };

  it('after SIGKILL mid-run, the restarted service finishes it: no item lost, no plan duplicated', async () => {
    const first = await spawn();
    const runId = await startRun(first.url, 'crash');
    await waitUntil('some items settled', async () => (await settledCount(runId)) >= 150, 60_000, 50);
    first.kill('SIGKILL');
    await first.exited;
    const atKill = await settledCount(runId);
    figures.set('restart: items settled at the kill', atKill);
    expect(atKill).toBeLessThan(ITEMS);

    const second = await spawn();
    const t0 = Date.now();
    await waitUntil('the run to complete after the restart', async () => (await runView(second.url, runId))?.status === 'COMPLETED', 120_000, 200);
    figures.set('restart: ms from ready to COMPLETED', Date.now() - t0);
    await expectWholeRun(second.url, runId, 'crash');
  }, 240_000);

  it('with two instances one works the run; when it dies, the other takes the run over and finishes it', async () => {
    const [a, b] = [await spawn(), await spawn()];
    const runId = await startRun(a.url, 'pair');
    await waitUntil('some items settled', async () => (await settledCount(runId)) >= 150, 60_000, 50);
    const lease = await db.collection('proposal_runs').findOne({ _id: runId as never });
    const holder = String(lease?.lease_holder);
    const victim = [a, b].find((p) => holder.split(':')[1] === String(p.pid))!;
    const survivor = victim === a ? b : a;
    expect(victim).toBeDefined();
    // While the holder lives, it alone settles the run's items.
    const before = await db.collection('proposal_run_items').distinct('settled_by', { run_id: runId, outcome: { $ne: 'PENDING' } });
    expect(before).toEqual([holder]);
    victim.kill('SIGKILL');
    await victim.exited;
    figures.set('pair: items settled by the first holder at its death', await settledCount(runId));

    await waitUntil('the survivor to complete the run', async () => (await runView(survivor.url, runId))?.status === 'COMPLETED', 120_000, 200).catch((e: unknown) => {
      // Say what the survivor logged and where the items stand, so a failure can be read.
      throw new Error(`${String(e)}\nsurvivor's warnings:\n${survivor.output.filter((l) => /"level":(40|50)/.test(l)).slice(-15).join('\n')}`);
    });
    const items = await expectWholeRun(survivor.url, runId, 'pair');
    const by = new Map<string, number>();
    for (const item of items) by.set(String(item.settled_by), (by.get(String(item.settled_by)) ?? 0) + 1);
    expect([...by.keys()].sort()).toHaveLength(2);
    expect(by.get(holder)).toBeGreaterThanOrEqual(150);
    figures.set('pair: items settled by the survivor', ITEMS - (by.get(holder) ?? 0));
  }, 240_000);
});
