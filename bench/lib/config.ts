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
    budgetMs: num('BENCH_BUDGET_MS', 4_800_000),
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
    /** Case 10 (proposal runs): accounts of the real run (10a), items in flight in a run, the interactive window (10b), the dry run's items under the model limit (10c), and 10d's large run (0: 10d off). */
    runItems: num('BENCH_RUN_ITEMS', 10_000),
    runConcurrency: num('BENCH_RUN_CONCURRENCY', 8),
    runInteractiveMs: num('BENCH_RUN_INTERACTIVE_MS', 15_000),
    runLlmItems: num('BENCH_RUN_LLM_ITEMS', 400),
    runMemoryItems: num('BENCH_RUN_MEMORY_ITEMS', 0),
    /** Case 11: alternating rounds of the published playbook against the built-in one. */
    playbookRounds: num('BENCH_PLAYBOOK_ROUNDS', 4),
    /** Case 12: alternating rounds with and without endpoints (12a), and the event rate of 12b/12c. */
    webhookRounds: num('BENCH_WEBHOOK_ROUNDS', 2),
    webhookRate: num('BENCH_WEBHOOK_RATE', 200),
    cpuProf: env.BENCH_CPU_PROF === '1',
    /** The embedded store's debug listener (loopback host:port): command counters and profiles while a case runs. */
    storeDebugAddr: env.BENCH_STORE_DEBUG_ADDR?.trim() || null,
    only: env.BENCH_ONLY ? new Set(env.BENCH_ONLY.split(',').map((s) => s.trim())) : null,
    mongoUri: env.BENCH_MONGODB_URI?.trim() || null,
    keepTemp: env.BENCH_KEEP_TEMP === '1',
  };
}

export type BenchConfig = ReturnType<typeof benchConfig>;
