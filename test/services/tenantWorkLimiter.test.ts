import { describe, expect, it } from '@jest/globals';
import { TenantWorkLimiter } from '../../src/services/tenantWorkLimiter.js';

/** Work that resolves when told to, and says whether its signal was aborted. */
function gate() {
  let open: (v: string) => void = () => undefined;
  const opened = new Promise<string>((resolve) => (open = resolve));
  const seen: AbortSignal[] = [];
  let runs = 0;
  const work = async (signal: AbortSignal) => {
    runs += 1;
    seen.push(signal);
    return Promise.race([opened, new Promise<string>((_r, reject) => signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true }))]);
  };
  return { work, open, seen, runs: () => runs };
}

describe('TenantWorkLimiter', () => {
  it('runs identical concurrent work once and gives every caller its answer', async () => {
    const limiter = new TenantWorkLimiter();
    const g = gate();
    const answers = Array.from({ length: 60 }, () => limiter.run('t1', 'verify/8', g.work));
    await new Promise((r) => setImmediate(r));
    g.open('ok');
    expect(await Promise.all(answers)).toEqual(Array.from({ length: 60 }, () => 'ok'));
    expect(g.runs()).toBe(1);
  });

  it("runs one job of a tenant at a time, and does not hold up another tenant's", async () => {
    const limiter = new TenantWorkLimiter({ overall: 2 });
    const a = gate();
    const b = gate();
    const c = gate();
    const first = limiter.run('t1', 'one', a.work);
    const second = limiter.run('t1', 'two', b.work);
    const other = limiter.run('t2', 'one', c.work);
    await new Promise((r) => setImmediate(r));
    expect([a.runs(), b.runs(), c.runs()]).toEqual([1, 0, 1]);
    c.open('c');
    expect(await other).toBe('c');
    a.open('a');
    expect(await first).toBe('a');
    b.open('b');
    expect(await second).toBe('b');
  });

  it('stops the work when every caller left, not before', async () => {
    const limiter = new TenantWorkLimiter();
    const g = gate();
    const left = [new AbortController(), new AbortController()];
    const calls = left.map((c) => limiter.run('t1', 'stats', g.work, c.signal).catch((e: unknown) => (e as Error).message));
    await new Promise((r) => setImmediate(r));
    left[0]?.abort(new Error('client 1 gone'));
    expect(await calls[0]).toBe('client 1 gone');
    expect(g.seen[0]?.aborted).toBe(false);
    left[1]?.abort(new Error('client 2 gone'));
    expect(await calls[1]).toBe('client 2 gone');
    expect(g.seen[0]?.aborted).toBe(true);
    // A caller after that starts the work afresh.
    const again = limiter.run('t1', 'stats', g.work);
    await new Promise((r) => setImmediate(r));
    g.open('fresh');
    expect(await again).toBe('fresh');
    expect(g.runs()).toBe(2);
  });
});
