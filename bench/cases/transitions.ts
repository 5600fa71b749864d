import { mintDevToken } from '../../src/auth/devToken.js';
import type { BenchCase } from '../lib/benchCase.js';
import { cpuText, fmtRun, verdictOf } from '../lib/figures.js';
import { JWT_SECRET, TENANT, proposeBodies } from '../lib/harness.js';

// Case 8 (a diagnostic, no baseline): approvePlan of fresh DRAFT plans on the main server, 16 in
// flight, each plan approved once: the CPU per transition (service and store) and its throughput.

const APPROVE = 'mutation Approve($id: ID!) { approvePlan(planId: $id) { ok plan { planId status } } }';

export const transitionsCase: BenchCase = {
  id: '8',
  title: 'approvePlan: CPU per transition',
  slice: 0.0117,
  shares: ['mainServer'],
  seeds: ['BENCH_TRANSITION_PLANS DRAFT plans proposed through the service'],
  async run(h, window) {
    const c = 16;
    const what = `approvePlan c=${c}`;
    try {
      const server = await h.mainServer();
      const approver = await mintDevToken({ secret: JWT_SECRET, tenantId: TENANT, roles: ['plan-approver'], sub: 'bench-approver', ttlSeconds: 3600 });
      const wanted = h.cfg.transitionPlans;
      // An approved plan cannot be approved again: each request approves a DRAFT plan of its own.
      await h.run(h.gqlJob(server, h.token, 'approvePlan seed', proposeBodies, h.limits('approvePlan seed', c, { warmupMs: 0, durationMs: window.left(), maxRequests: wanted }), '"source":"RULES"'), window);
      const ids = (await h.mainDb.collection('plans').find({ tenant_id: TENANT, plan_status: 'DRAFT' }, { projection: { _id: 1 } }).limit(wanted).toArray()).map((d) => String(d._id));
      const bodies = ids.map((id) => JSON.stringify({ query: APPROVE, operationName: 'Approve', variables: { id } }));
      const svc = await h.run(h.gqlJob(server, approver, what, bodies, h.limits(what, c, { warmupMs: 0, durationMs: window.left(), maxRequests: bodies.length }), '"ok":true'), window, server);
      return [
        {
          id: '8',
          what,
          load: `closed loop, ${c} in flight; ${ids.length.toLocaleString('en-US')} DRAFT plans, each approved once`,
          service: `${fmtRun(svc)} · CPU/request: ${cpuText(svc)}`,
          baseline: 'none (a diagnostic: CPU per transition)',
          ratio: 'n/a',
          goal: 'CPU per request stated',
          verdict: verdictOf(svc.requests > 0 && svc.errors === 0),
          figures: { service: svc },
        },
      ];
    } catch (e) {
      return [h.failRow('8', what, 'CPU per request stated', e)];
    }
  },
};
