// The bench's knobs, read from the environment once (bench/results/README.md lists them).

const num = (name: string, fallback: number) => {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number`);
  return n;
};
const list = (name: string, fallback: string) =>
  (process.env[name] ?? fallback)
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => n > 0);

export function benchConfig() {
  const env = process.env;
  return {
    warmupMs: num('BENCH_WARMUP_MS', 1500),
    durationMs: num('BENCH_DURATION_MS', 5000),
    /** One request taking longer counts as a timeout (an error). */
    timeoutMs: num('BENCH_TIMEOUT_MS', 10_000),
    /** Wall-clock budget of the script (the build before it is not counted). */
    budgetMs: num('BENCH_BUDGET_MS', 2_700_000),
    concurrencies: list('BENCH_CONCURRENCY', '1,16,64'),
    readConcurrency: num('BENCH_READ_CONCURRENCY', 1),
    memoryFirst: num('BENCH_MEMORY_FIRST', 1000),
    memoryTarget: num('BENCH_MEMORY_PROPOSALS', 20_000),
    ledgerSmall: num('BENCH_LEDGER_SMALL', 1000),
    ledgerLarge: num('BENCH_LEDGER_LARGE', 200_000),
    ledgerPlanEntries: 50,
    /** The read suite (case 6): plans of the large tenant at each size (10 ledger entries each). */
    readSizes: list('BENCH_READ_SIZES', '1000,50000'),
    readWarmupMs: num('BENCH_READ_WARMUP_MS', 500),
    readDurationMs: num('BENCH_READ_DURATION_MS', 2500),
    llmDelayMs: num('BENCH_LLM_DELAY_MS', 300),
    llmConcurrency: num('BENCH_LLM_CONCURRENCY', 50),
    /** Case 8: DRAFT plans proposed, then approved once each. */
    transitionPlans: num('BENCH_TRANSITION_PLANS', 800),
    /** Case 7: which parts (propose: 7a/7b, seal: 7c/7e, proof: 7d). */
    ledgerParts: new Set((env.BENCH_LEDGER_PARTS ?? 'propose,seal,proof').split(',').map((p) => p.trim())),
    sealEntries: num('BENCH_SEAL_ENTRIES', 20_000),
    proofEntries: num('BENCH_PROOF_ENTRIES', 500_000),
    cpuProf: env.BENCH_CPU_PROF === '1',
    only: env.BENCH_ONLY ? new Set(env.BENCH_ONLY.split(',').map((s) => s.trim())) : null,
    mongoUri: env.BENCH_MONGODB_URI?.trim() || null,
    keepTemp: env.BENCH_KEEP_TEMP === '1',
  };
}

export type BenchConfig = ReturnType<typeof benchConfig>;
