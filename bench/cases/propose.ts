import type { BenchCase } from '../lib/benchCase.js';
import { until } from '../lib/budget.js';
import { cpuText, fmtRun, verdictOf } from '../lib/figures.js';
import { RAW_TENANT, TENANT, proposeBodies } from '../lib/harness.js';
import type { Row } from '../lib/report.js';
import { ratio } from '../lib/stats.js';
import type { WriteTemplate } from '../lib/types.js';

// Case 1: proposePlan at each concurrency (BENCH_CONCURRENCY) on the main server, against the
// raw driver writing the same documents (copied from a plan the service proposed) and, at the
// first concurrency, the raw driver replaying the service's own store protocol.

export const proposeCase: BenchCase = {
  id: '1',
  title: 'proposePlan vs the raw driver',
  slice: 0.0283,
  shares: ['mainServer'],
  seeds: ['a proposed plan and its ledger entry (the raw writes copy them)'],
  async run(h, window) {
    const { cfg } = h;
    const rows: Row[] = [];
    const goal = 'throughput ≥ 0.6× raw';
    const server = await h.mainServer();
    const db = h.mainDb;
    let template: WriteTemplate;
    try {
      if ((await h.countPlans(db, TENANT)) === 0) {
        await h.run(h.gqlJob(server, h.token, 'proposePlan seed', proposeBodies, h.limits('proposePlan seed', 1, { warmupMs: 0, maxRequests: 20 }), '"source":"RULES"'), window);
      }
      const plan = await db.collection('plans').findOne({ tenant_id: TENANT });
      const entry = plan ? await db.collection('plan_ledger').findOne({ tenant_id: TENANT, plan_id: plan._id, seq: 1 }) : null;
      if (!plan || !entry) throw new Error('no proposed plan to copy the raw writes from');
      template = { plan, entry };
      h.details.writeTemplate = { planJsonBytes: JSON.stringify(plan).length, entryJsonBytes: JSON.stringify(entry).length };
    } catch (e) {
      return [h.failRow('1', 'proposePlan', goal, e)];
    }
    for (const [i, c] of cfg.concurrencies.entries()) {
      const id = `1${String.fromCharCode(97 + i)}`;
      const what = `proposePlan c=${c}`;
      // Each concurrency gets its share of what is left, service and raw driver alike.
      const share = window.left() / (cfg.concurrencies.length - i);
      const runCount = i === 0 ? 3 : 2; // service, raw, and at c=1 the protocol replay
      const sideMs = Math.max(cfg.warmupMs + cfg.durationMs + 3000, share / runCount);
      if (share < 2 * (cfg.warmupMs + cfg.durationMs) + 2000) {
        rows.push(h.skipRow(id, what, goal, 'time budget'));
        continue;
      }
      try {
        const plansBefore = await h.countPlans(db, TENANT);
        const svc = await h.run(h.gqlJob(server, h.token, `${what} (service)`, proposeBodies, h.limits(`${what} (service)`, c), '"source":"RULES"'), until(Date.now() + sideMs, window), server);
        const raw = await h.run(h.driverJob(db.databaseName, `${what} (raw driver)`, { op: 'proposeWrites', tenant: RAW_TENANT, template }, h.limits(`${what} (raw driver)`, c)), until(Date.now() + sideMs, window));
        // The protocol replay is a diagnostic; at c=1 it is clean (at higher concurrency SQLite's
        // write lock dominates it), and it costs a run.
        const protocolLabel = `${what} (raw, service's store protocol)`;
        const protocol =
          i === 0 && window.fits() ? await h.run(h.driverJob(db.databaseName, protocolLabel, { op: 'proposeProtocol', tenant: RAW_TENANT, template }, h.limits(protocolLabel, c)), until(Date.now() + sideMs, window)) : null;
        const r = svc.throughput / raw.throughput;
        rows.push({
          id,
          what,
          load: `closed loop, ${c} in flight; ${plansBefore.toLocaleString('en-US')} plans stored before`,
          service: `${fmtRun(svc)} · CPU/request: ${cpuText(svc)}`,
          baseline:
            `raw insertOne plan + insertOne ledger entry (SHA-256): ${fmtRun(raw)} · CPU/request: ${cpuText(raw)}` +
            (protocol ? `; raw doing the service's store protocol (entry with the plan's copy, then plan): ${fmtRun(protocol)} · CPU/request: ${cpuText(protocol)}` : ''),
          ratio: `${ratio(r)} throughput${protocol ? ` (service ÷ raw doing its protocol: ${ratio(svc.throughput / protocol.throughput)})` : ''}`,
          goal,
          verdict: verdictOf(raw.requests > 0 ? r >= 0.6 : null),
          figures: { service: svc, raw, protocol, throughputRatio: r, plansBefore },
        });
      } catch (e) {
        rows.push(h.failRow(id, what, goal, e));
      }
    }
    return rows;
  },
};
