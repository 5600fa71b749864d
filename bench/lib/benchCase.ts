import type { Window } from './budget.js';
import type { Harness } from './harness.js';
import type { Row } from './report.js';

/** One benchmark case: a module of bench/cases, listed in bench/run.ts. */
export interface BenchCase {
  /** Its number in the table and in BENCH_ONLY (several entries may share one: case 5's two points). */
  id: string;
  /** What it measures, for the log. */
  title: string;
  /** Its share of the time budget (bench/run.ts scales the shares of the cases run to 1). */
  slice: number;
  /** How long to wait at most for the store to go idle before its window opens (default 10 s). */
  settleMs?: number;
  /** Whether it uses the shared main server (bench_main): run.ts stops it after the last such case. */
  mainServer?: boolean;
  /** The data it needs seeded (bench/lib/seed.ts, for the docs and the log). */
  seeds: readonly string[];
  /** Measures within `window` and returns its table rows (a failure becomes an error row). */
  run(h: Harness, window: Window): Promise<Row[]>;
}
