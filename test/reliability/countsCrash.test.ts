import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Db } from 'mongodb';
import { StatusCounts, tallyOf, type StatusCount } from '../../src/domain/planTally.js';
import { RevenuePlanV1Schema } from '../../src/domain/plan.js';
import { PLANS_COLLECTION } from '../../src/store/indexes.js';
import { PLAN_COUNTERS_COLLECTION } from '../../src/store/planCounterIndexes.js';
import { PlanCounters } from '../../src/store/PlanCounters.js';
import { TALLY_MARK } from '../../src/store/tallyMark.js';
import { openTestDb, type TestDb } from '../support/testDb.js';
import { mapLimit, postGql, PROPOSE, SIGNALS, spawnServiceProcess, storeAtRest, tokenFor, TRANSITIONS, waitUntil, type ServiceProcess } from '../support/reliability.js';

/**
 * Kept counts across SIGKILL (docs/store.md, "Kept counts"): the service runs as its own
 * process with its tally job, and is killed in the middle of a burst of proposals and
 * transitions, while plans it wrote are still waiting for their counter write (the test checks
 * that some are). With no process running, the counts read from the store are already exact;
 * a restarted service's job then takes every mark in, and planStatusCounts through its API
 * equals the plans counted one by one.
 */

const TENANT = 'counts-crash';
const COUNTS = '{ planStatusCounts { status count openSteps overdueSteps } }';

describe('kept counts survive SIGKILL', () => {
  let testDb: TestDb;
  let db: Db;
  let proc: ServiceProcess | null = null;
  let token: string;

  const start = async () => (proc = await spawnServiceProcess({ MONGODB_URI: testDb.uri, MONGODB_DB: testDb.dbName }));

  beforeAll(async () => {
    testDb = await openTestDb('countscrash');
    db = testDb.db;
    token = await tokenFor(TENANT, ['plan-proposer', 'plan-approver', 'plan-viewer'], 'kim');
  }, 30_000);

  afterAll(async () => {
    await proc?.stop();
    await testDb.close();
  }, 60_000);

  /** The tenant's plans, each read from the store and counted here. */
  async function countedOneByOne(now: Date): Promise<StatusCount[]> {
    const counts = new StatusCounts();
    for await (const doc of db.collection<{ _id: string }>(PLANS_COLLECTION).find({ tenant_id: TENANT })) {
      counts.addTally(tallyOf(RevenuePlanV1Schema.parse({ ...doc, plan_id: doc._id })), now);
    }
    return counts.toRows();
  }
  const marked = () => db.collection(PLANS_COLLECTION).countDocuments({ tenant_id: TENANT, [TALLY_MARK]: { $exists: true } });

  it(
    'a kill between plan writes and their counter writes: exact before the restart, taken in after it',
    async () => {
      const first = await start();
      let acknowledged = 0;
      const burst = mapLimit(
        Array.from({ length: 80 }, (_v, i) => i),
        12,
        async (i) => {
          const proposed = await postGql<{ proposePlan: { plan: { planId: string } } }>(
            `${first.url}/graphql`,
            PROPOSE,
            { input: { accountId: `acct-${i}`, planType: 'RENEWAL_DEFENSE', signals: SIGNALS } },
            { token, timeoutMs: 5000 },
          );
          const planId = proposed.data?.proposePlan.plan.planId;
          if (!planId) return;
          acknowledged += 1;
          if (i % 2 === 0) await postGql(`${first.url}/graphql`, TRANSITIONS.approve, { planId }, { token, timeoutMs: 5000 });
          if (i % 4 === 0) await postGql(`${first.url}/graphql`, TRANSITIONS.activate, { planId }, { token, timeoutMs: 5000 });
        },
      );
      await waitUntil('a third of the burst acknowledged', () => acknowledged >= 25, 60_000, 20);
      first.kill('SIGKILL');
      await first.exited;
      await burst;
      await storeAtRest(db);

      // Killed with plans written and not yet counted.
      expect(await marked()).toBeGreaterThan(0);
      const now = new Date();
      const expected = await countedOneByOne(now);
      expect(expected.reduce((n, r) => n + r.count, 0)).toBeGreaterThanOrEqual(25);
      // No process runs: the store's read is exact already (it adds the marked plans).
      expect(await new PlanCounters(db).statusCounts(TENANT, {}, now)).toEqual(expected);

      // A restarted service's job takes every mark in (settling a journal the kill may have left).
      const second = await start();
      // Within the tally lease's 30 s: the killed process may have held it.
      await waitUntil('every mark taken in', async () => (await marked()) === 0, 60_000, 100);
      expect(await db.collection<{ _id: string }>(PLAN_COUNTERS_COLLECTION).findOne({ _id: TENANT })).not.toHaveProperty('journal');
      const res = await postGql<{ planStatusCounts: StatusCount[] }>(`${second.url}/graphql`, COUNTS, {}, { token });
      expect(res.errors).toBeUndefined();
      const rows = res.data!.planStatusCounts;
      expect(rows).toEqual(await countedOneByOne(new Date()));
      expect(rows.map((r) => r.status)).toEqual(expect.arrayContaining(['DRAFT', 'APPROVED']));
    },
    180_000,
  );
});
