// Waiting in tests: a pause, and polling for a condition with a deadline.

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls fn() until it returns a value (not null/undefined/false); throws after timeoutMs, naming `what`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs: number, intervalMs = 100): Promise<T> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const value = await fn();
    if (value !== null && value !== undefined && value !== false) return value;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Polls until fn() is true; throws after timeoutMs, naming `what`. Returns the elapsed ms. */
export async function waitUntil(what: string, fn: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 100): Promise<number> {
  const started = Date.now();
  await waitFor(what, async () => (await fn()) || null, timeoutMs, intervalMs);
  return Date.now() - started;
}
