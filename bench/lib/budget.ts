// Time left for a run, a case's window of the budget, and the error that skips a case when
// its window is too short.

export interface Budget {
  left(): number;
}

/** A budget ending at `deadline` (epoch ms), within `outer`. */
export const until = (deadline: number, outer?: Budget): Budget => ({ left: () => Math.min(outer ? outer.left() : Number.POSITIVE_INFINITY, deadline - Date.now()) });

/** A case's time window (bench/run.ts gives each case its slice of the budget). */
export class Window implements Budget {
  /**
   * @param deadline when the window closes (epoch ms)
   * @param runMs one measured run: warm-up + measured window
   */
  constructor(
    readonly deadline: number,
    private readonly runMs: number,
  ) {}

  left(): number {
    return this.deadline - Date.now();
  }

  /** Room for one measured run (warm-up + window + a slow last request)? */
  fits(extraMs = 0): boolean {
    return this.left() >= this.runMs + 2000 + extraMs;
  }
}

/** Thrown when a case's window has no room for it: its row says "skipped". */
export class Skipped extends Error {}
