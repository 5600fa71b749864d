import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintDevToken } from '../src/auth/devToken.js';
import { startEmbeddedStore } from '../src/store/embeddedStore.js';
import { runLoadJob, type LoadResult } from './lib/loadJob.js';
import { childPids, commOf, cpuMs, ProcessRegistry, sleep, startServer, type ServerProcess } from './lib/processes.js';
import { percentile } from './lib/stats.js';

// The webhooks case (npm run bench:webhooks): the cost of signed webhooks to the request path,
// and how soon they arrive. Its own store (embedded FerretDB in a temp dir) and service process;
// receivers on loopback in this process; load from a separate process (closed loop) or from
// here at a fixed rate (open loop).
//   A. proposePlan at 16 in flight, a tenant with three endpoints subscribed vs a tenant with
//      none (same service), alternating runs: the ratio of throughputs (target >= 0.9);
//   B. proposals at WEBHOOK_BENCH_RATE/s (200) for a tenant with three endpoints: lag from
//      each entry's timestamp to its arrival (targets p50 < 100 ms, p99 < 1 s), and nothing lost;
//   C. B again with a fourth endpoint of the tenant that never answers: the three healthy
//      endpoints' lag must not change.
// Knobs: WEBHOOK_BENCH_DURATION_MS (4000), WEBHOOK_BENCH_RATE (200), WEBHOOK_BENCH_ROUNDS (2).

const num = (name: string, fallback: number) => {
  const v = process.env[name];
  return v === undefined || v.trim() === '' ? fallback : Number(v);
};
const DURATION_MS = num('WEBHOOK_BENCH_DURATION_MS', 4000);
const RATE = num('WEBHOOK_BENCH_RATE', 200);
const ROUNDS = num('WEBHOOK_BENCH_ROUNDS', 2);
const SECRET = 'bench-webhooks-secret-0123456789abcdef0123456789';
const log = (line: string) => process.stderr.write(`[bench:webhooks] ${line}\n`);

const PROPOSE = 'mutation Propose($input: ProposePlanInput!) { proposePlan(input: $input) { plan { planId status } } }';
const proposeBody = (i: number) =>
  JSON.stringify({
    query: PROPOSE,
    operationName: 'Propose',
    variables: { input: { accountId: `acct-${i}`, planType: 'RENEWAL_DEFENSE', signals: [{ type: 'RENEWAL_WINDOW', days_to_renewal: 45, renewal_date: '2027-01-07' }, { type: 'SUPPORT_RISK', severity: 'HIGH', open_escalations: 2 }] } },
  });
const BODIES = Array.from({ length: 512 }, (_, i) => proposeBody(i));

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

const registry = new ProcessRegistry();
const tempDir = mkdtempSync(join(tmpdir(), 'bench-webhooks-'));

async function gql<T>(service: ServerProcess, token: string, query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await fetch(`${service.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: T; errors?: unknown };
  if (body.errors || !body.data) throw new Error(`API call failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const tokenOf = (tenant: string, roles: string[]) => mintDevToken({ secret: SECRET, tenantId: tenant, roles, sub: 'bench', ttlSeconds: 3600 });

/** CPU (ms) the service and the store used per request of a run: steadier than throughput on a shared machine. */
interface Cpu {
  service: number;
  store: number;
}
let storePid = 0;

async function closedLoop(service: ServerProcess, tenant: string, label: string): Promise<LoadResult & { cpu: Cpu }> {
  const token = await tokenOf(tenant, ['plan-proposer']);
  const before = { service: cpuMs(service.pid) ?? 0, store: cpuMs(storePid) ?? 0 };
  const result = await runLoadJob(
    { kind: 'http', label, url: `${service.url}/graphql`, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, bodies: BODIES, concurrency: 16, warmupMs: 1000, durationMs: DURATION_MS, maxRequests: 1_000_000, timeoutMs: 10_000, expect: '"planId"' },
    (pid, kill) => registry.track(pid, label, kill),
  );
  const sent = Math.max(1, result.requests + result.errors + result.warmupRequests);
  return { ...result, cpu: { service: ((cpuMs(service.pid) ?? 0) - before.service) / sent, store: ((cpuMs(storePid) ?? 0) - before.store) / sent } };
}

/** Proposals at `rate` per second for `ms`, not waiting for answers before the next: the events' arrival rate. */
async function openLoop(service: ServerProcess, tenant: string, rate: number, ms: number): Promise<{ sent: number; failed: number; achieved: number }> {
  const token = await tokenOf(tenant, ['plan-proposer']);
  const started = performance.now();
  const total = Math.round((rate * ms) / 1000);
  let failed = 0;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    inFlight.push(
      fetch(`${service.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: BODIES[i % BODIES.length] as string })
        .then(async (r) => {
          const text = await r.text();
          if (!text.includes('"planId"')) failed++;
        })
        .catch(() => {
          failed++;
        }),
    );
  }
  await Promise.all(inFlight);
  return { sent: total, failed, achieved: (total * 1000) / (performance.now() - started) };
}

function lagSummary(receivers: Receiver[], ids: ReadonlySet<string>): { p50: number; p99: number; max: number; received: number; missing: number } {
  const lags: number[] = [];
  let missing = 0;
  for (const r of receivers) {
    for (const id of ids) {
      const lag = r.lags.get(id);
      if (lag === undefined) missing++;
      else lags.push(lag);
    }
  }
  lags.sort((a, b) => a - b);
  return { p50: percentile(lags, 50), p99: percentile(lags, 99), max: lags.at(-1) ?? Number.NaN, received: lags.length, missing };
}

async function main(): Promise<void> {
  const store = await startEmbeddedStore({ dataDir: join(tempDir, 'store') });
  registry.track(store.pid, 'embedded store', () => store.stop());
  storePid = childPids(store.pid).find((pid) => commOf(pid) === 'ferretdb') ?? store.pid;
  const service = await startServer({
    name: 'webhooks',
    logFile: join(tempDir, 'service.log'),
    registry,
    env: { NODE_ENV: 'test', LOG_LEVEL: 'info', MONGODB_URI: store.uri, MONGODB_DB: 'bench_webhooks', JWT_SECRET: SECRET, WEBHOOK_ALLOW_LOOPBACK: 'true', DATA_DIR: tempDir },
  });
  registry.track(service.pid, 'service', () => service.stop());
  log(`service at ${service.url}`);

  const healthy = [await receiver(), await receiver(), await receiver()];
  const hanging = await receiver(true);
  const admin = await tokenOf('hooks', ['plan-admin']);
  for (const r of healthy) await gql(service, admin, 'mutation($u: String!) { createWebhookEndpoint(url: $u) { endpoint { endpointId } } }', { u: r.url });

  // A. throughput with and without three endpoints, alternating.
  const plain: number[] = [];
  const hooked: number[] = [];
  const plainCpu: Cpu[] = [];
  const hookedCpu: Cpu[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const a = await closedLoop(service, 'plain', `plain #${round + 1}`);
    plain.push(a.throughput);
    plainCpu.push(a.cpu);
    log(`A plain  #${round + 1}: ${a.throughput.toFixed(1)}/s, p50 ${a.latency.p50.toFixed(1)} ms, errors ${a.errors}; CPU/request service ${a.cpu.service.toFixed(2)} ms, store ${a.cpu.store.toFixed(2)} ms`);
    await sleep(1500);
    const b = await closedLoop(service, 'hooks', `hooks #${round + 1}`);
    hooked.push(b.throughput);
    hookedCpu.push(b.cpu);
    log(`A 3 hooks #${round + 1}: ${b.throughput.toFixed(1)}/s, p50 ${b.latency.p50.toFixed(1)} ms, errors ${b.errors}; CPU/request service ${b.cpu.service.toFixed(2)} ms, store ${b.cpu.store.toFixed(2)} ms`);
    await sleep(1500);
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
  const ratio = median(hooked) / median(plain);
  const cpuOf = (xs: Cpu[]) => ({ service: median(xs.map((x) => x.service)), store: median(xs.map((x) => x.store)) });
  const [cpuPlain, cpuHooked] = [cpuOf(plainCpu), cpuOf(hookedCpu)];
  // What the CPU per request says throughput would be if CPU were the only limit (both processes share the cores).
  const cpuRatio = (cpuPlain.service + cpuPlain.store) / (cpuHooked.service + cpuHooked.store);

  // B and C: lag at a fixed event rate, then with a hanging endpoint beside the healthy ones.
  const phase = async (label: string) => {
    const before = new Set(healthy.flatMap((r) => [...r.lags.keys()]));
    const load = await openLoop(service, 'hooks', RATE, DURATION_MS);
    await sleep(3000); // stragglers (and the cursor's durable path) arrive
    const ids = new Set([...(healthy[0]?.lags.keys() ?? [])].filter((id) => !before.has(id)));
    for (const r of healthy.slice(1)) for (const id of r.lags.keys()) if (!before.has(id)) ids.add(id);
    const lag = lagSummary(healthy, ids);
    log(`${label}: ${load.sent} proposals at ${load.achieved.toFixed(0)}/s (${load.failed} failed); ${lag.received} deliveries, ${lag.missing} missing; lag p50 ${lag.p50} ms, p99 ${lag.p99} ms, max ${lag.max} ms`);
    return { load, lag, events: ids.size };
  };
  const b = await phase('B 3 endpoints');
  await gql(service, admin, 'mutation($u: String!) { createWebhookEndpoint(url: $u) { endpoint { endpointId } } }', { u: hanging.url });
  await sleep(500);
  const c = await phase('C + 1 hanging endpoint');

  const results = {
    throughput: { plain, hooked, ratio, cpuPlain, cpuHooked, cpuRatio },
    lag: { rate: RATE, withoutHanging: b, withHanging: c },
  };
  console.log(JSON.stringify(results, null, 2));
  console.log(
    [
      '',
      '| webhooks case | figure | target |',
      '|---|---|---|',
      `| proposePlan c=16, 3 endpoints vs none | ${median(hooked).toFixed(1)}/s vs ${median(plain).toFixed(1)}/s = ${ratio.toFixed(2)}x | >= 0.9x |`,
      `| CPU per proposal (service + store), 3 endpoints vs none | ${cpuHooked.service.toFixed(2)} + ${cpuHooked.store.toFixed(2)} ms vs ${cpuPlain.service.toFixed(2)} + ${cpuPlain.store.toFixed(2)} ms = ${cpuRatio.toFixed(2)}x | |`,
      `| lag at ${b.load.achieved.toFixed(0)} events/s (3 endpoints) | p50 ${b.lag.p50} ms, p99 ${b.lag.p99} ms, ${b.lag.missing} missing | p50 < 100 ms, p99 < 1 s |`,
      `| same, a 4th endpoint hanging | p50 ${c.lag.p50} ms, p99 ${c.lag.p99} ms, ${c.lag.missing} missing | unchanged |`,
    ].join('\n'),
  );
  for (const r of [...healthy, hanging]) await r.close();
}

try {
  await main();
} finally {
  await registry.stopAll();
  rmSync(tempDir, { recursive: true, force: true });
}
