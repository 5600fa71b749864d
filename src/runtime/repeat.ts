/** A background loop started by repeat(). */
export interface Repeating {
  /** Ends the loop; resolves once the run under way, if any, has ended. */
  stop(): Promise<void>;
}

export interface RepeatOptions {
  /** Pause between the end of one run and the start of the next. */
  intervalMs: number;
  /** Pause before the first run (default: intervalMs). */
  firstDelayMs?: number;
  /** The pause after a run, when it depends on what the run found (default: intervalMs). */
  nextDelayMs?: () => number;
  /** Where a failed run goes; the loop goes on. */
  onError: (e: unknown) => void;
}

/**
 * Runs `task` in the background again and again, never two runs at once (a slow run delays
 * the next instead of piling runs up). The timer does not hold the process open.
 */
export function repeat(task: () => Promise<unknown>, options: RepeatOptions): Repeating {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = task()
        .then(
          () => undefined,
          (e: unknown) => options.onError(e),
        )
        .then(() => schedule(options.nextDelayMs ? options.nextDelayMs() : options.intervalMs));
    }, delayMs);
    timer.unref();
  };
  schedule(options.firstDelayMs ?? options.intervalMs);
  return {
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
