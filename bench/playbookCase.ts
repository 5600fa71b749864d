// Bench case "playbook": proposePlan for a tenant with a published playbook version against a
// tenant on the built-in version 0, same server process and store, same run, 16 in flight
// (goal: ≥ 0.95× the built-in's throughput). The runs alternate ABBA (default, published,
// published, default, …) so drift in the machine's load hits both sides alike; each side's figure is the
// sum of its requests over the sum of its windows. Run alone: `npm run bench:playbook`
// (knobs: BENCH_WARMUP_MS, BENCH_DURATION_MS, BENCH_PLAYBOOK_ROUNDS, BENCH_MONGODB_URI).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { mintDevToken } from '../src/auth/devToken.js';
import { generateSigningKey } from '../src/services/ledgerLog/checkpointSigner.js';
import { startEmbeddedStore, type EmbeddedStore } from '../src/store/embeddedStore.js';
import { runLoadJob, type HttpJob, type LoadResult } from './lib/loadJob.js';
import { PROJECT_ROOT, ProcessRegistry, startServer, type ServerProcess } from './lib/processes.js';

const env = process.env;
const num = (name: string, fallback: number): number => {
  const n = Number(env[name] ?? fallback);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number`);
  return n;
};
const cfg = {
  warmupMs: num('BENCH_WARMUP_MS', 1500),
  durationMs: num('BENCH_DURATION_MS', 5000),
  rounds: num('BENCH_PLAYBOOK_ROUNDS', 4),
  concurrency: 16,
  mongoUri: env.BENCH_MONGODB_URI?.trim() || null,
};
const JWT_SECRET = 'bench-secret-0123456789abcdef0123456789abcdef';
const log = (message: string) => process.stderr.write(`[bench playbook] ${message}\n`);
const registry = new ProcessRegistry();

/** The same proposal inputs for both tenants (all three steps under the built-in rules). */
const bodies = Array.from({ length: 512 }, (_, i) =>
  JSON.stringify({
    query: 'mutation Propose($input: ProposePlanInput!) { proposePlan(input: $input) { source plan { planId planTypeConfigVersion steps { actionType dueAt } } } }',
    operationName: 'Propose',
    variables: {
      input: {
        accountId: `acct-${i}`,
        planType: 'RENEWAL_DEFENSE',
        posture: { health: 'AT_RISK', renewal_date: '2027-01-07' },
        signals: [
          { type: 'RENEWAL_WINDOW', days_to_renewal: 45, renewal_date: '2027-01-07' },
          { type: 'SUPPORT_RISK', severity: 'HIGH', open_escalations: 2 },
          { type: 'USAGE_DROP', percent: 35 },
        ],
      },
    },
  }),
);

/** A playbook that differs from the default everywhere a proposal reads it. */
const PUBLISHED_INPUT = {
  allowedStepActionTypes: ['REQUEST_RENEWAL_MEETING', 'PREP_RENEWAL_BRIEF', 'ESCALATE_SUPPORT_RISK'],
  defaultSequence: ['REQUEST_RENEWAL_MEETING', 'PREP_RENEWAL_BRIEF', 'ESCALATE_SUPPORT_RISK'],
  objectiveTemplate: 'Keep {account_id} past {renewal_date}',
  expiresAtDaysFromCreation: 21,
  stepSchedule: [
    { actionType: 'REQUEST_RENEWAL_MEETING', ownerRole: 'ACCOUNT_EXECUTIVE', dueDaysBeforeRenewal: 40, dueDaysAfterCreation: 5 },
    { actionType: 'PREP_RENEWAL_BRIEF', ownerRole: 'CSM', dueDaysBeforeRenewal: 30, dueDaysAfterCreation: 8 },
    { actionType: 'ESCALATE_SUPPORT_RISK', ownerRole: 'SUPPORT_MANAGER', dueDaysBeforeRenewal: 20, dueDaysAfterCreation: 12 },
  ],
  rules: { renewalWindowDays: 90, usageDropPercent: 25, escalationMinSeverity: 'HIGH' },
};

async function gql<T>(server: ServerProcess, token: string, query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: T; errors?: unknown };
  if (body.errors || !body.data) throw new Error(`API call failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const job = (server: ServerProcess, token: string, label: string, expect: string): HttpJob => ({
  kind: 'http',
  label,
  concurrency: cfg.concurrency,
  warmupMs: cfg.warmupMs,
  durationMs: cfg.durationMs,
  maxRequests: 1_000_000,
  timeoutMs: 10_000,
  url: `${server.url}/graphql`,
  headers: { authorization: `Bearer ${token}` },
  bodies,
  expect,
});

async function main(): Promise<void> {
  const tempDir = mkdtempSync(join(tmpdir(), 'bench-playbook-'));
  let store: EmbeddedStore | null = null;
  try {
    let uri = cfg.mongoUri;
    if (!uri) {
      store = await startEmbeddedStore({ dataDir: join(tempDir, 'ferretdb'), log: (line) => log(`ferretdb: ${line}`) });
      uri = store.uri;
    }
    const server = await startServer({
      name: 'playbook',
      env: { NODE_ENV: 'production', LOG_LEVEL: 'info', JWT_SECRET, LEDGER_SIGNING_KEY: generateSigningKey(), MONGODB_URI: uri, MONGODB_DB: 'bench_playbook' },
      logFile: join(tempDir, 'playbook.log'),
      registry,
    });
    const token = (tenant: string, roles: string[], sub: string) => mintDevToken({ secret: JWT_SECRET, tenantId: tenant, roles, sub, ttlSeconds: 3600 });
    const builtIn = await token('bench-default', ['plan-proposer'], 'bench');
    const published = await token('bench-playbook', ['plan-proposer'], 'bench');
    const draft = await gql<{ draftPlanTypeConfig: { version: number } }>(
      server,
      await token('bench-playbook', ['plan-admin'], 'admin-a'),
      'mutation($i: PlanTypeConfigInput!) { draftPlanTypeConfig(planType: RENEWAL_DEFENSE, input: $i) { version } }',
      { i: PUBLISHED_INPUT },
    );
    await gql(server, await token('bench-playbook', ['plan-admin'], 'admin-b'), 'mutation($v: Int!) { publishPlanTypeConfig(planType: RENEWAL_DEFENSE, version: $v) { version } }', { v: draft.draftPlanTypeConfig.version });
    log(`published version ${draft.draftPlanTypeConfig.version} for tenant bench-playbook`);

    const sides = { builtIn: [] as LoadResult[], published: [] as LoadResult[] };
    const track = (pid: number, kill: () => void) => registry.track(pid, 'load', kill);
    for (let round = 1; round <= cfg.rounds; round++) {
      const order = [
        ['builtIn', builtIn, '"planTypeConfigVersion":0'],
        ['published', published, `"planTypeConfigVersion":${draft.draftPlanTypeConfig.version}`],
      ] as const;
      // ABBA: neither side always runs first (the first run of a round meets a colder process).
      for (const [side, bearer, expect] of round % 2 === 1 ? order : [...order].reverse()) {
        const result = await runLoadJob(job(server, bearer, `${side} round ${round}`, expect), track);
        log(`${side} round ${round}: ${result.throughput.toFixed(1)}/s, p50 ${result.latency.p50.toFixed(1)} ms, ${result.errors} errors`);
        sides[side].push(result);
      }
    }
    const rate = (runs: LoadResult[]) => runs.reduce((n, r) => n + r.requests, 0) / (runs.reduce((t, r) => t + r.elapsedMs, 0) / 1000);
    const errors = [...sides.builtIn, ...sides.published].reduce((n, r) => n + r.errors, 0);
    const ratio = rate(sides.published) / rate(sides.builtIn);
    const verdict = errors === 0 && ratio >= 0.95 ? 'PASS' : 'FAIL';
    const line = `playbook: proposePlan c=16, published version ${rate(sides.published).toFixed(1)}/s vs built-in ${rate(sides.builtIn).toFixed(1)}/s = ${ratio.toFixed(3)}× (goal ≥ 0.95×, ${cfg.rounds} alternating rounds of ${cfg.durationMs} ms, ${errors} errors): ${verdict}`;
    console.log(line);
    const out = resolve(PROJECT_ROOT, 'bench', 'results', 'playbook.json');
    writeFileSync(out, `${JSON.stringify({ cfg, ratio, verdict, builtIn: sides.builtIn, published: sides.published }, null, 2)}\n`);
    log(`details: ${out}`);
    process.exitCode = verdict === 'PASS' ? 0 : 1;
    await server.stop();
  } finally {
    await registry.stopAll();
    await store?.stop().catch(() => undefined);
    rmSync(tempDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
