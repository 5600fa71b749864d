import type { Window } from './budget.js';
import type { Harness, Shared } from './harness.js';
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
  /** What it shares with other cases (bench/lib/harness.ts): run.ts releases each after the last case naming it. */
  shares?: readonly Shared[];
  /** The data it needs seeded, in words (for the log and the docs). */
  seeds: readonly string[];
  /** Measures within `window` and returns its table rows (a failure becomes an error row). */
  run(h: Harness, window: Window): Promise<Row[]>;
}
