import type { BenchCase } from '../lib/benchCase.js';
import { Skipped } from '../lib/budget.js';
import { boundedVerdict, fmtRun, latencyRatio } from '../lib/figures.js';
import { PLAN_QUERY, TENANT, proposeBodies } from '../lib/harness.js';
import type { DriverOp, LoadResult } from '../lib/loadJob.js';
import type { Row } from '../lib/report.js';

// Case 2: plan(planId) on the main server (the plans cases 5, 1 and 8 proposed), against the
// raw driver's findOne({_id, tenant_id}) and findOne({_id}) alone. Lists: case 6.

export const pointReadsCase: BenchCase = {
  id: '2',
  title: 'plan(planId) vs the raw driver',
  slice: 0.0155,
  shares: ['mainServer'],
  seeds: ['the main server’s proposed plans (at least 60; proposed here if fewer)'],
  async run(h, window) {
    const goal = 'p99 ≤ 2× raw';
    const c = h.cfg.readConcurrency;
    const rows: Row[] = [];
    try {
      const server = await h.mainServer();
      const db = h.mainDb;
      if ((await h.countPlans(db, TENANT)) < 60) {
        await h.run(h.gqlJob(server, h.token, 'reads seed', proposeBodies, h.limits('reads seed', 4, { warmupMs: 0, maxRequests: 100 }), '"source":"RULES"'), window);
      }
      const ids = (await db.collection('plans').find({ tenant_id: TENANT }, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id));
      // A fixed sample spread over the stored plans (old and new), visited round robin by both sides.
      const n = Math.min(500, ids.length);
      const sample = Array.from({ length: n }, (_, i) => ids[Math.floor((i * ids.length) / n)] as string);
      const stored = ids.length;
      const cases: { id: string; what: string; bodies: string[]; driver: DriverOp; baseline: string; alt?: { driver: DriverOp; name: string } }[] = [
        {
          id: '2a',
          what: 'plan(planId)',
          bodies: sample.map((id) => JSON.stringify({ query: PLAN_QUERY, operationName: 'Plan', variables: { id } })),
          driver: { op: 'findPlan', tenant: TENANT, ids: sample },
          baseline: 'raw findOne {_id, tenant_id}',
          alt: { driver: { op: 'findPlanById', tenant: TENANT, ids: sample }, name: 'raw findOne {_id}' },
        },
      ];
      for (const k of cases) {
        try {
          if (!window.fits()) throw new Skipped('time budget');
          const [svc, raw] = (await h.measureSides(
            [
              { label: `${k.what} (service)`, make: (l) => h.gqlJob(server, h.token, l.label, k.bodies, l), server },
              { label: `${k.what} (raw driver)`, make: (l) => h.driverJob(db.databaseName, l.label, k.driver, l) },
            ],
            c,
            window,
          )) as [LoadResult, LoadResult];
          const alt = k.alt && window.fits() ? await h.run(h.driverJob(db.databaseName, `${k.what} (${k.alt.name})`, k.alt.driver, h.limits(`${k.what} (${k.alt.name})`, c)), window) : null;
          const p99 = latencyRatio(svc, raw, 'p99');
          const p50 = latencyRatio(svc, raw, 'p50');
          rows.push({
            id: k.id,
            what: k.what,
            load: `closed loop, ${c} in flight; ${stored.toLocaleString('en-US')} plans stored`,
            service: fmtRun(svc),
            baseline: `${k.baseline}: ${fmtRun(raw)}${alt && k.alt ? `; ${k.alt.name}: ${fmtRun(alt)}` : ''}`,
            ratio: `${p99.text} p99 (p50 ${p50.text})${alt ? `; p99 vs {_id} alone ${latencyRatio(svc, alt, 'p99').text}` : ''}`,
            goal,
            verdict: boundedVerdict(p99, 2),
            figures: { service: svc, raw, alt, p99Ratio: p99.value, p50Ratio: p50.value, plansStored: stored },
          });
        } catch (e) {
          rows.push(h.failRow(k.id, k.what, goal, e));
        }
      }
    } catch (e) {
      rows.push(h.failRow('2', 'reads', goal, e));
    }
    return rows;
  },
};
