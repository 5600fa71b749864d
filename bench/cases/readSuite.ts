import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { mintDevToken } from '../../src/auth/devToken.js';
import { ensureStockFerretdbBinary, startEmbeddedStore, type EmbeddedStore } from '../../src/store/embeddedStore.js';
import type { BenchCase } from '../lib/benchCase.js';
import { Skipped } from '../lib/budget.js';
import { boundedVerdict, fmtRun, latencyRatio } from '../lib/figures.js';
import { JWT_SECRET, TENANT } from '../lib/harness.js';
import type { JobLimits, LoadResult } from '../lib/loadJob.js';
import { childPids, commOf, type ServerProcess } from '../lib/processes.js';
import { LEDGER_PER_PLAN, REFERENCE_TENANT, ReadSuiteData, SMALL_TENANT, SMALL_TENANT_PLANS, readQueries, samplePlanIds, type ReadQuery } from '../lib/readSuite.js';
import type { Row, Verdict } from '../lib/report.js';
import { ms } from '../lib/stats.js';

// Case 6: the dashboard's reads at each size, stock vs patched FerretDB vs the raw driver.
// The large tenant grows from the first size to the last (10 ledger entries per plan); a small
// tenant of 100 plans and a tenant of the first size sit beside it throughout. A read's growth is
// the large tenant's against the first-size tenant's, measured in alternating rounds at the last
// size (REFERENCE_TENANT says why). Patched FerretDB is the bench's store; stock
// FerretDB (.bin/ferretdb-stock, built on demand) gets the same documents in a store of its
// own. Each has its own service process; the raw driver reads the patched store. The data
// (bench/lib/readSuite.ts) stays for case 7d, which proves inclusion in its log.

/** One read at one size: the service, the raw driver and stock FerretDB; at the last size also the reference tenant's read (medians of the alternating rounds). */
type Measured = { patched: LoadResult; raw: LoadResult; stock: LoadResult | null; reference: LoadResult | null };

export const readSuiteCase: BenchCase = {
  id: '6',
  title: 'read suite (lists, counts, feed, stats)',
  slice: 0.4533,
  shares: ['readSuiteData'],
  seeds: ['bench_reads: the large tenant grown to each BENCH_READ_SIZES (10 entries per plan), a 100-plan tenant and a tenant of the first size, on the patched and the stock store (on the patched one with their sealed log when case 7d runs)'],
  async run(h, window) {
    const { cfg } = h;
    const rows: Row[] = [];
    const goal = 'see each row';
    let stockStore: EmbeddedStore | null = null;
    const servers: ServerProcess[] = [];
    const data = h.readSuiteData();
    const dbName = ReadSuiteData.DB;
    let stockClient: MongoClient | null = null;
    let detachStock = () => undefined as void;
    try {
      const sides: { name: 'patched' | 'stock'; server: ServerProcess }[] = [];
      // No background verifier: a log seeded outside the service would be caught up during the
      // reads (that one-time cost is case 9a's); both sides alike.
      const patchedServer = await h.server('reads', dbName, { LEDGER_VERIFIER: 'off' });
      servers.push(patchedServer);
      sides.push({ name: 'patched', server: patchedServer });
      if (!cfg.mongoUri) {
        h.log('building and starting stock FerretDB (no patches) for case 6');
        const binary = await ensureStockFerretdbBinary();
        const started = await startEmbeddedStore({ dataDir: join(h.tempDir, 'ferretdb-stock'), binary, log: (line) => h.log(`ferretdb-stock: ${line}`) });
        stockStore = started;
        h.track(started.pid, 'stock store', () => started.stop());
        const client = new MongoClient(started.uri, { directConnection: true });
        stockClient = client;
        await client.connect();
        const stockServer = await h.server('reads-stock', dbName, { MONGODB_URI: started.uri, LEDGER_VERIFIER: 'off' });
        servers.push(stockServer);
        sides.push({ name: 'stock', server: stockServer });
        // The stock store gets every plan and entry the bench's store gets, in the same batches.
        detachStock = data.addMirror(client.db(dbName));
      } else h.notes.push('6: with BENCH_MONGODB_URI there is no stock FerretDB to compare with.');
      const smallToken = await mintDevToken({ secret: JWT_SECRET, tenantId: SMALL_TENANT, roles: ['plan-viewer'], sub: 'bench', ttlSeconds: 3 * 3600 });
      const now = data.now;
      const seedTo = async (tenant: string, plans: number, until = Number.POSITIVE_INFINITY) => {
        const t0 = Date.now();
        const from = data.plansOf(tenant);
        const have = await data.growTo(tenant, plans, until);
        const n = have - from;
        h.log(`  seeded ${n} plans (+${n * LEDGER_PER_PLAN} ledger entries${data.withLog ? ', sealed' : ''}) of ${tenant} into ${sides.length} store(s) in ${ms(Date.now() - t0)}`);
        return have;
      };
      await seedTo(SMALL_TENANT, SMALL_TENANT_PLANS);
      const wanted = [...cfg.readSizes].sort((a, b) => a - b);
      const referenceSize = wanted[0] ?? 0;
      const referenceToken = await mintDevToken({ secret: JWT_SECRET, tenantId: REFERENCE_TENANT, roles: ['plan-viewer'], sub: 'bench', ttlSeconds: 3 * 3600 });
      if (wanted.length > 1) await seedTo(REFERENCE_TENANT, referenceSize);
      // What one size's measurements take at most (8 reads; the service, the raw driver and
      // stock FerretDB, and at the last size the rounds of the two tenants; each a probe and a
      // run): the seeding stops where the window must keep that for every size still to measure.
      const perSizeMs = 8 * (3 + 2 * GROWTH_ROUNDS) * (3000 + cfg.readWarmupMs + cfg.readDurationMs);
      const sizes: number[] = [];
      const results = new Map<number, Map<string, Measured>>();
      for (const [k, target] of wanted.entries()) {
        const size = await seedTo(TENANT, target, window.deadline - perSizeMs * (wanted.length - k));
        if (size < target) h.notes.push(`6: the time budget ended the seeding at ${size.toLocaleString('en-US')} of ${target.toLocaleString('en-US')} plans; that size is measured instead.`);
        if (sizes.includes(size)) continue;
        sizes.push(size);
        // Every process of the case at rest before a size's runs: the stock store digests its
        // copy of the seeding at its own pace, and would take a core from the patched runs.
        await h.awaitStoreIdle(20_000, 'after seeding');
        if (stockStore) await h.awaitProcessIdle(stockFerretdbPid(stockStore), 120_000, 'stock store, after seeding');
        for (const s of servers) await h.awaitProcessIdle(s.pid, 20_000, `${s.name}, after seeding`);
        const ids = samplePlanIds(TENANT, size);
        const queries: (ReadQuery & { tenantToken?: string })[] = [
          ...readQueries(TENANT, size, ids, now),
          { ...readQueries(SMALL_TENANT, SMALL_TENANT_PLANS, [], now).find((q) => q.key === 'plans')!, key: 'small', what: `small tenant's plans(first: 50) (${SMALL_TENANT_PLANS} plans)`, tenantToken: smallToken },
        ];
        const bySize = new Map<string, Measured>();
        results.set(size, bySize);
        const overrides = { warmupMs: cfg.readWarmupMs, durationMs: cfg.readDurationMs };
        const label = (q: ReadQuery, side: string) => `6 ${q.key} @${size} (${side})`;
        const last = k === wanted.length - 1 && sizes.length > 1;
        const referenceQueries = new Map(last ? readQueries(REFERENCE_TENANT, referenceSize, samplePlanIds(REFERENCE_TENANT, referenceSize), now).map((q) => [q.key, q]) : []);
        for (const q of queries) {
          if (!window.fits()) throw new Skipped(`time budget (at ${size} plans, ${q.what})`);
          const t = q.tenantToken ?? h.token;
          const referenceQuery = referenceQueries.get(q.key);
          const patchedSide = { label: label(q, 'patched service'), make: (l: JobLimits) => h.gqlJob(patchedServer, t, l.label, q.bodies, l), server: patchedServer };
          // At the last size, rounds of the reference tenant's read and the large tenant's, one
          // after the other; each side's figure is its median run (by p50).
          const referenceRuns: LoadResult[] = [];
          const patchedRuns: LoadResult[] = [];
          for (let round = 0; round < (referenceQuery ? GROWTH_ROUNDS : 1); round++) {
            if (referenceQuery) {
              const [run] = await h.measureSides([{ label: label(q, `patched service, the ${referenceSize.toLocaleString('en-US')}-plan tenant`), make: (l) => h.gqlJob(patchedServer, referenceToken, l.label, referenceQuery.bodies, l), server: patchedServer }], cfg.readConcurrency, window, overrides);
              referenceRuns.push(run!);
            }
            const [run] = await h.measureSides([patchedSide], cfg.readConcurrency, window, overrides);
            patchedRuns.push(run!);
          }
          const [raw] = await h.measureSides([{ label: label(q, 'raw driver, patched'), make: (l) => h.driverJob(dbName, l.label, { op: 'read', reads: q.raw }, l) }], cfg.readConcurrency, window, overrides);
          const patched = medianByP50(patchedRuns);
          const reference = referenceRuns.length > 0 ? medianByP50(referenceRuns) : null;
          bySize.set(q.key, { patched, raw: raw!, stock: null, reference });
        }
        // Stock FerretDB after the patched store's runs: a read the client gave up on goes on in
        // the stock store for a while, and must not slow down the patched figures.
        const stockSide = sides.find((sd) => sd.name === 'stock');
        if (stockSide) {
          for (const q of queries) {
            if (!window.fits()) break;
            const t = q.tenantToken ?? h.token;
            const [stock] = await h.measureSides([{ label: label(q, 'stock service'), make: (l) => h.gqlJob(stockSide.server, t, l.label, q.bodies, l), server: stockSide.server }], cfg.readConcurrency, window, overrides);
            bySize.get(q.key)!.stock = stock ?? null;
          }
          if (stockStore) await h.awaitProcessIdle(stockFerretdbPid(stockStore), 120_000, 'stock store, after its reads');
        }
      }
      const biggest = sizes.at(-1) ?? 0;
      const small = results.get(sizes[0] ?? 0);
      const large = results.get(biggest);
      if (!small || !large) throw new Error('no sizes measured');
      const sizeText = (n: number) => `${n.toLocaleString('en-US')} plans / ${(n * LEDGER_PER_PLAN).toLocaleString('en-US')} entries`;
      for (const q of readQueries(TENANT, biggest, [], now).concat([{ key: 'small', what: `small tenant's plans(first: 50) (${SMALL_TENANT_PLANS} plans, beside the large tenant)`, bodies: [], raw: [], flat: true }])) {
        const a = small.get(q.key);
        const b = large.get(q.key);
        const point = large.get('plan');
        if (!a || !b || !point) continue;
        // Growth between the large tenant and the reference tenant at one moment; the first
        // phase's figure (another moment) is shown beside it.
        const growth = latencyRatio(b.patched, b.reference ?? a.patched, 'p50');
        const phaseGrowth = latencyRatio(b.patched, a.patched, 'p50');
        const vsRaw = latencyRatio(b.patched, b.raw, 'p99');
        const vsStock = b.stock ? latencyRatio(b.stock, b.patched, 'p50') : null;
        const vsPoint = latencyRatio(b.patched, point.patched, 'p50');
        const checks: { text: string; verdict: Verdict }[] = [];
        if (q.flat) checks.push({ text: `p50 @${biggest.toLocaleString('en-US')} ≤ 1.3× @${(sizes[0] ?? 0).toLocaleString('en-US')}${b.reference ? ' (the same-size tenant beside it)' : ''}`, verdict: boundedVerdict(growth, 1.3) });
        if (q.vsPointRead) checks.push({ text: `p50 ≤ ${q.vsPointRead}× plan(planId)`, verdict: boundedVerdict(vsPoint, q.vsPointRead) });
        if (q.key !== 'plan') checks.push({ text: 'p99 ≤ 2× raw', verdict: boundedVerdict(vsRaw, 2) });
        if (q.key === 'stats' && vsStock) {
          // Both sides may be bounds (timeouts): "< x" means the stock side answered faster than x times.
          checks.push({ text: 'stock p50 ≥ 20× patched', verdict: !vsStock.known ? 'error' : vsStock.value >= 20 ? (vsStock.text.startsWith('<') ? 'incomplete' : 'pass') : vsStock.text.startsWith('>') ? 'incomplete' : 'miss' });
        }
        const verdicts = checks.map((c) => c.verdict);
        const verdict: Verdict = verdicts.length === 0 ? '' : verdicts.includes('error') ? 'error' : verdicts.includes('miss') ? 'miss' : verdicts.includes('incomplete') ? 'incomplete' : 'pass';
        rows.push({
          id: `6${q.key === 'small' ? 'h' : q.key === 'overdue' ? 'i' : 'abcdefg'[['plan', 'plans', 'status', 'account', 'counts', 'feed', 'stats'].indexOf(q.key)]}`,
          what: q.what,
          load: `closed loop, ${cfg.readConcurrency} in flight; large tenant ${sizeText(sizes[0] ?? 0)} → ${sizeText(biggest)}`,
          service: `@${(sizes[0] ?? 0).toLocaleString('en-US')}: ${fmtRun(a.patched, false)}; @${biggest.toLocaleString('en-US')}: ${fmtRun(b.patched, false)}${b.reference ? `; the ${(sizes[0] ?? 0).toLocaleString('en-US')}-plan tenant beside it then: ${fmtRun(b.reference, false)}` : ''}`,
          baseline: `raw driver @${biggest.toLocaleString('en-US')}: ${fmtRun(b.raw, false)}; stock FerretDB @${(sizes[0] ?? 0).toLocaleString('en-US')}: ${fmtRun(a.stock, false)}, @${biggest.toLocaleString('en-US')}: ${fmtRun(b.stock, false)}`,
          ratio: `growth ${growth.text} p50${b.reference ? ` (${phaseGrowth.text} against the first phase)` : ''}; ${vsRaw.text} raw p99; ${q.key === 'plan' ? '' : `${vsPoint.text} plan(planId) p50; `}stock ${vsStock ? `${vsStock.text}` : 'n/a'} slower (p50)`,
          goal: checks.map((c) => c.text).join('; ') || '(reference)',
          verdict,
          figures: { small: a, large: b, growthP50: growth.value, phaseGrowthP50: phaseGrowth.value, vsRawP99: vsRaw.value, vsPointP50: vsPoint.value, stockSlowerP50: vsStock?.value ?? null, sizes },
        });
      }
    } catch (e) {
      rows.push(h.failRow('6', 'read suite (plans lists, counts, feed, stats)', goal, e));
    } finally {
      // Later growth (case 7d) goes to the bench's store alone.
      detachStock();
      await stockClient?.close().catch(() => undefined);
      for (const s of servers) await s.stop();
      await stockStore?.stop();
    }
    return rows;
  },
};

/** Alternating rounds of the reference tenant's and the large tenant's read at the last size. */
const GROWTH_ROUNDS = 3;

const medianByP50 = (runs: readonly LoadResult[]): LoadResult => [...runs].sort((a, b) => a.latency.p50 - b.latency.p50)[Math.floor(runs.length / 2)]!;

/** The stock store's FerretDB process (its start script's child). */
const stockFerretdbPid = (store: EmbeddedStore): number | null => childPids(store.pid).find((pid) => commOf(pid) === 'ferretdb') ?? null;
