import type { BenchCase } from '../lib/benchCase.js';
import { boundedVerdict, fmtRun, latencyOf, latencyRatio } from '../lib/figures.js';
import { TENANT, type Harness, type Side } from '../lib/harness.js';
import type { LoadResult } from '../lib/loadJob.js';
import type { Row } from '../lib/report.js';
import { ms, rate } from '../lib/stats.js';
import type { Window } from '../lib/budget.js';
import { ledgerBatches } from '../lib/seed.js';

// Case 3: planLedger for one 50-entry plan at 1k and at 200k entries. One database per size,
// each with its own server process. The plan read has the same id in both and its entries are
// the last ones written (the newest plan): a store that scans cannot look flat by meeting them first.

const LEDGER = 'query Ledger($id: ID!) { planLedger(filter: { planId: $id }, first: 50) { edges { cursor node { entryId planId seq eventType timestamp actor data prevHash hash } } pageInfo { hasNextPage endCursor } } }';
const TARGET = 'ledger-target-plan';

interface AtSize {
  svc: LoadResult;
  raw: LoadResult;
  points: LoadResult;
  loaded: number;
  loadMs: number;
}

async function atSize(h: Harness, window: Window, entries: number, loadUntil: number): Promise<AtSize> {
  const perPlan = h.cfg.ledgerPlanEntries;
  const dbName = `bench_ledger_${entries}`;
  const db = h.admin.db(dbName);
  const body = [JSON.stringify({ query: LEDGER, operationName: 'Ledger', variables: { id: TARGET } })];
  const server = await h.server(`ledger-${entries}`, dbName); // creates the indexes
  try {
    h.log(`loading ${entries} ledger entries into ${dbName}`);
    const loadStart = Date.now();
    // The target plan is the last batch: when time runs out, load it anyway, early.
    const all = [...ledgerBatches({ tenant: TENANT, entries, perPlan, prefix: 'ledger', lastPlanId: TARGET })];
    const last = all.pop() ?? [];
    let loaded = await h.bulkInsert(db, 'plan_ledger', all, loadUntil);
    loaded += await h.bulkInsert(db, 'plan_ledger', [last], Number.POSITIVE_INFINITY);
    const loadMs = Date.now() - loadStart;
    h.log(`  loaded ${loaded} entries in ${ms(loadMs)} (${rate((loaded / loadMs) * 1000)})`);
    await h.awaitStoreIdle(20_000, 'after the bulk load');
    // The raw find goes last: on a store that scans, it is the slow one.
    const sides: Side[] = [
      { label: `planLedger @${loaded} (service)`, make: (l) => h.gqlJob(server, h.token, l.label, body, l), server },
      { label: `planLedger @${loaded} (raw reads by _id)`, make: (l) => h.driverJob(dbName, l.label, { op: 'ledgerPointReads', tenant: TENANT, planId: TARGET, count: perPlan + 1 }, l) },
      { label: `planLedger @${loaded} (raw driver)`, make: (l) => h.driverJob(dbName, l.label, { op: 'ledgerPage', tenant: TENANT, planId: TARGET }, l) },
    ];
    const [svc, points, raw] = (await h.measureSides(sides, h.cfg.readConcurrency, window)) as [LoadResult, LoadResult, LoadResult];
    return { svc, raw, points, loaded, loadMs };
  } finally {
    await server.stop();
    await db.dropDatabase().catch(() => undefined); // keeps the temp dir small
  }
}

export const planLedgerCase: BenchCase = {
  id: '3',
  title: 'planLedger(planId) at 1k and 200k entries',
  slice: 0.0459,
  seeds: ['bench_ledger_<size>: BENCH_LEDGER_SMALL and BENCH_LEDGER_LARGE entries in 50-entry plans, the plan read written last'],
  async run(h, window) {
    const { cfg } = h;
    const goal = 'p50 at 200k ≤ 1.3× at 1k';
    const what = 'planLedger(planId), 50 entries';
    const c = cfg.readConcurrency;
    const perPlan = cfg.ledgerPlanEntries;
    const rows: Row[] = [];
    try {
      const ledgerRow = (id: string, m: AtSize, rowGoal: string): Row => ({
        id,
        what: `${what} @ ${m.loaded.toLocaleString('en-US')} entries`,
        load: `closed loop, ${c} in flight; ${m.loaded.toLocaleString('en-US')} entries over ${Math.ceil(m.loaded / perPlan)} plans, the plan read written last; bulk load ${ms(m.loadMs)} (${rate((m.loaded / m.loadMs) * 1000)})`,
        service: fmtRun(m.svc),
        baseline: `raw find {tenant_id, plan_id} sort {seq: 1} limit 50: ${fmtRun(m.raw)}; raw ${perPlan + 1} findOne {_id} at once: ${fmtRun(m.points)}`,
        ratio: `p50 ${latencyRatio(m.svc, m.raw, 'p50').text} raw find, ${latencyRatio(m.svc, m.points, 'p50').text} raw reads by _id`,
        goal: rowGoal,
        verdict: '',
        figures: { service: m.svc, raw: m.raw, rawById: m.points, entries: m.loaded, loadMs: m.loadMs },
      });
      const small = await atSize(h, window, cfg.ledgerSmall, Number.POSITIVE_INFINITY);
      rows.push(ledgerRow('3a', small, '(reference for 3c)'));
      // The large load may use the window but for what its measurements need.
      const large = await atSize(h, window, cfg.ledgerLarge, window.deadline - 36_000);
      rows.push(ledgerRow('3b', large, '(see 3c)'));
      const growth = latencyRatio(large.svc, small.svc, 'p50');
      const complete = large.loaded >= cfg.ledgerLarge;
      if (!complete) h.notes.push(`3: the time budget ended the bulk load at ${large.loaded.toLocaleString('en-US')} of ${cfg.ledgerLarge.toLocaleString('en-US')} entries; 3b and 3c are measured at that size.`);
      rows.push({
        id: '3c',
        what: `planLedger growth ${small.loaded.toLocaleString('en-US')} → ${large.loaded.toLocaleString('en-US')} entries`,
        load: 'p50 at the large size ÷ p50 at the small size',
        service: `${ms(small.svc.latency.p50)} → ${latencyOf(large.svc, 'p50')?.lowerBound ? '> ' : ''}${ms(latencyOf(large.svc, 'p50')?.value)}`,
        baseline: `raw find ${latencyRatio(large.raw, small.raw, 'p50').text}; raw reads by _id ${latencyRatio(large.points, small.points, 'p50').text}`,
        ratio: `${growth.text} p50 (p99 ${latencyRatio(large.svc, small.svc, 'p99').text})`,
        goal,
        verdict: complete ? boundedVerdict(growth, 1.3) : growth.known && !growth.text.startsWith('<') && growth.value > 1.3 ? 'miss' : 'incomplete',
        figures: { growthP50: growth.value, rawGrowthP50: latencyRatio(large.raw, small.raw, 'p50').value, complete },
      });
    } catch (e) {
      rows.push(h.failRow('3', what, goal, e));
    }
    return rows;
  },
};
