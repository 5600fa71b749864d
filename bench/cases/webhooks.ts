import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { callApi } from '../lib/api.js';
import type { BenchCase } from '../lib/benchCase.js';
import { Skipped, type Window } from '../lib/budget.js';
import { cpuText, fmtRun, verdictOf } from '../lib/figures.js';
import type { Harness } from '../lib/harness.js';
import type { LoadResult } from '../lib/loadJob.js';
import { sleep, type ServerProcess } from '../lib/processes.js';
import type { Row } from '../lib/report.js';
import { ms, percentile, rate, ratio } from '../lib/stats.js';

// Case 12 (BENCH_ONLY=12): what signed webhooks cost the request path, and how soon they
// arrive (docs/webhooks.md). Its own server and database; receivers on loopback in this
// process. The server runs with NODE_ENV=test: production refuses loopback endpoints.
//   12a  proposePlan at 16 in flight for a tenant with three endpoints against a tenant with
//        none, BENCH_WEBHOOK_ROUNDS alternating rounds: the throughput ratio (goal ≥ 0.9×);
//   12b  proposals at BENCH_WEBHOOK_RATE/s (open loop) for the three-endpoint tenant: lag from
//        each entry's timestamp to its arrival (goal p50 < 100 ms, p99 < 1 s, none missing);
//   12c  12b again with a fourth endpoint that never answers: the healthy endpoints' lag must
//        stay within the same goals.

const CONCURRENCY = 16;
const HOOKED = 'hooks';
const PLAIN = 'plain';
const SUBSCRIBE = 'mutation($u: String!) { createWebhookEndpoint(url: $u) { endpoint { endpointId } } }';
const PROPOSE = 'mutation Propose($input: ProposePlanInput!) { proposePlan(input: $input) { plan { planId status } } }';
const BODIES = Array.from({ length: 512 }, (_, i) =>
  JSON.stringify({
    query: PROPOSE,
    operationName: 'Propose',
    variables: { input: { accountId: `acct-${i}`, planType: 'RENEWAL_DEFENSE', signals: [{ type: 'RENEWAL_WINDOW', days_to_renewal: 45, renewal_date: '2027-01-07' }, { type: 'SUPPORT_RISK', severity: 'HIGH', open_escalations: 2 }] } },
  }),
);

interface Receiver {
  url: string;
  /** Lag (ms) of each delivery received, by webhook-id. */
  lags: Map<string, number>;
  close(): Promise<void>;
}

/** A receiver answering 204 at once (or never, when `hang`), recording each delivery's lag. */
async function receiver(hang = false): Promise<Receiver> {
  const lags = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (hang) return;
      const id = String(req.headers['webhook-id']);
      const { timestamp } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { timestamp: string };
      if (!lags.has(id)) lags.set(id, Date.now() - Date.parse(timestamp));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    lags,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Proposals at `perSecond` for `durationMs`, each sent when due whether or not the earlier ones answered. */
async function openLoop(server: ServerProcess, token: string, perSecond: number, durationMs: number): Promise<{ sent: number; failed: number; achieved: number }> {
  const started = performance.now();
  const total = Math.max(1, Math.round((perSecond * durationMs) / 1000));
  let failed = 0;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = started + (i * 1000) / perSecond - performance.now();
    if (wait > 1) await sleep(wait);
    inFlight.push(
      fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: BODIES[i % BODIES.length] as string })
        .then(async (r) => {
          if (!(await r.text()).includes('"planId"')) failed++;
        })
        .catch(() => {
          failed++;
        }),
    );
  }
  await Promise.all(inFlight);
  return { sent: total, failed, achieved: (total * 1000) / (performance.now() - started) };
}

interface Lag {
  p50: number;
  p99: number;
  received: number;
  missing: number;
  events: number;
}

/** Open-loop proposals, then the healthy receivers' lag for the events of this phase (each event once per receiver). */
async function lagPhase(h: Harness, server: ServerProcess, token: string, healthy: Receiver[]): Promise<{ load: Awaited<ReturnType<typeof openLoop>>; lag: Lag }> {
  const before = new Set(healthy.flatMap((r) => [...r.lags.keys()]));
  const load = await openLoop(server, token, h.cfg.webhookRate, h.cfg.durationMs);
  await sleep(3000); // stragglers (and the cursor's durable path) arrive
  const ids = new Set(healthy.flatMap((r) => [...r.lags.keys()]).filter((id) => !before.has(id)));
  const lags: number[] = [];
  let missing = 0;
  for (const r of healthy) {
    for (const id of ids) {
      const lag = r.lags.get(id);
      if (lag === undefined) missing++;
      else lags.push(lag);
    }
  }
  lags.sort((a, b) => a - b);
  return { load, lag: { p50: percentile(lags, 50), p99: percentile(lags, 99), received: lags.length, missing, events: ids.size } };
}

const lagText = (l: Lag) => `p50 ${ms(l.p50)} · p99 ${ms(l.p99)} · ${l.events} events × 3 endpoints, ${l.missing} missing`;
const lagOk = (l: Lag, sent: number) => l.events > 0 && l.events >= sent && l.missing === 0 && l.p50 < 100 && l.p99 < 1000;

async function throughputRow(h: Harness, server: ServerProcess, window: Window): Promise<Row> {
  const what = `proposePlan, ${CONCURRENCY} in flight: a tenant with 3 webhook endpoints vs one with none`;
  const goal = '≥ 0.9×';
  try {
    const sides = [
      { tenant: PLAIN, token: await h.tokenFor(PLAIN, ['plan-proposer']), runs: [] as LoadResult[] },
      { tenant: HOOKED, token: await h.tokenFor(HOOKED, ['plan-proposer']), runs: [] as LoadResult[] },
    ];
    for (let round = 1; round <= h.cfg.webhookRounds; round++) {
      for (const side of sides) {
        if (!window.fits()) throw new Skipped('time budget');
        const label = `proposePlan c=${CONCURRENCY}, tenant ${side.tenant}, round ${round}`;
        side.runs.push(await h.run(h.gqlJob(server, side.token, label, BODIES, h.limits(label, CONCURRENCY), '"planId"'), window, server));
      }
    }
    const median = (runs: LoadResult[]) => [...runs].sort((x, y) => x.throughput - y.throughput)[Math.floor(runs.length / 2)]!;
    const [plain, hooked] = [median(sides[0]!.runs), median(sides[1]!.runs)];
    const r = hooked.throughput / plain.throughput;
    const errors = [...sides[0]!.runs, ...sides[1]!.runs].reduce((n, x) => n + x.errors, 0);
    return {
      id: '12a',
      what,
      load: `${h.cfg.webhookRounds} alternating rounds, median run per side; CPU per request with hooks ${cpuText(hooked)}, without ${cpuText(plain)}`,
      service: `3 endpoints: ${fmtRun(hooked)}`,
      baseline: `none: ${fmtRun(plain)}`,
      ratio: ratio(r),
      goal,
      verdict: verdictOf(errors === 0 ? r >= 0.9 : null),
      figures: { ratio: r, plain: sides[0]!.runs, hooked: sides[1]!.runs },
    };
  } catch (e) {
    return h.failRow('12a', what, goal, e);
  }
}

export const webhooksCase: BenchCase = {
  id: '12',
  title: 'webhooks: proposePlan with endpoints vs without, delivery lag',
  slice: 0.0256,
  seeds: [`${HOOKED}: three webhook endpoints on loopback receivers (through the API); 12c adds a fourth that never answers`],
  async run(h, window) {
    const rows: Row[] = [];
    let server: ServerProcess | null = null;
    const healthy: Receiver[] = [];
    let hanging: Receiver | null = null;
    const lagGoal = 'p50 < 100 ms, p99 < 1 s, none missing';
    try {
      server = await h.server('webhooks', 'bench_webhooks', { NODE_ENV: 'test', WEBHOOK_ALLOW_LOOPBACK: 'true', DATA_DIR: h.tempDir });
      for (let i = 0; i < 3; i++) healthy.push(await receiver());
      hanging = await receiver(true);
      const admin = await h.tokenFor(HOOKED, ['plan-admin']);
      for (const r of healthy) await callApi(server.url, admin, SUBSCRIBE, { u: r.url });

      rows.push(await throughputRow(h, server, window));

      const proposer = await h.tokenFor(HOOKED, ['plan-proposer']);
      if (!window.fits(8000)) throw new Skipped('time budget');
      const b = await lagPhase(h, server, proposer, healthy);
      rows.push({
        id: '12b',
        what: `webhook delivery lag at ${h.cfg.webhookRate} proposals/s, 3 endpoints`,
        load: `${b.load.sent} proposals, open loop at ${rate(b.load.achieved)} (${b.load.failed} failed)`,
        service: lagText(b.lag),
        baseline: `target rate ${rate(h.cfg.webhookRate)}`,
        ratio: `achieved ${ratio(b.load.achieved / h.cfg.webhookRate)} of the rate`,
        goal: lagGoal,
        verdict: verdictOf(lagOk(b.lag, b.load.sent - b.load.failed), b.load.achieved >= 0.95 * h.cfg.webhookRate),
        figures: b,
      });

      await callApi(server.url, admin, SUBSCRIBE, { u: hanging.url });
      await sleep(500);
      if (!window.fits(8000)) throw new Skipped('time budget');
      const c = await lagPhase(h, server, proposer, healthy);
      rows.push({
        id: '12c',
        what: 'the same with a 4th endpoint that never answers (healthy endpoints\' lag)',
        load: `${c.load.sent} proposals, open loop at ${rate(c.load.achieved)} (${c.load.failed} failed)`,
        service: lagText(c.lag),
        baseline: `12b: ${lagText(b.lag)}`,
        ratio: `p99 ${ratio(c.lag.p99 / b.lag.p99)} of 12b's`,
        goal: lagGoal,
        verdict: verdictOf(lagOk(c.lag, c.load.sent - c.load.failed), c.load.achieved >= 0.95 * h.cfg.webhookRate),
        figures: c,
      });
      if (b.load.achieved < 0.95 * h.cfg.webhookRate) h.notes.push(`12b/12c: the open loop reached ${rate(b.load.achieved)} of ${rate(h.cfg.webhookRate)}: lag measured below the target rate is incomplete.`);
    } catch (e) {
      rows.push(h.failRow(rows.length === 0 ? '12' : rows.length === 1 ? '12b' : '12c', 'webhook delivery lag', lagGoal, e));
    } finally {
      await server?.stop();
      for (const r of [...healthy, ...(hanging ? [hanging] : [])]) await r.close();
      await h.admin.db('bench_webhooks').dropDatabase().catch(() => undefined);
    }
    return rows;
  },
};
