import { describe, expect, it } from '@jest/globals';
import { repeat } from '../../src/runtime/repeat.js';

import { sleep } from '../support/wait.js';

describe('repeat', () => {
  it('runs one at a time, goes on after a failure, and stop() waits for the run under way', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let finished = 0;
    const errors: unknown[] = [];
    const loop = repeat(
      async () => {
        runs += 1;
        active += 1;
        maxActive = Math.max(maxActive, active);
        await sleep(15);
        active -= 1;
        finished += 1;
        if (runs === 1) throw new Error('first run fails');
      },
      { intervalMs: 1, onError: (e) => errors.push(e) },
    );
    while (runs < 3) await sleep(5);
    await loop.stop();
    expect(maxActive).toBe(1);
    expect(finished).toBe(runs);
    expect(errors).toHaveLength(1);
    const after = runs;
    await sleep(30);
    expect(runs).toBe(after);
  });

  it('waits firstDelayMs before the first run and nextDelayMs() between runs', async () => {
    const starts: number[] = [];
    const t0 = Date.now();
    const loop = repeat(
      async () => {
        starts.push(Date.now() - t0);
      },
      { intervalMs: 10_000, firstDelayMs: 0, nextDelayMs: () => (starts.length < 3 ? 0 : 10_000), onError: () => undefined },
    );
    while (starts.length < 3) await sleep(5);
    await sleep(50);
    await loop.stop();
    expect(starts).toHaveLength(3);
    expect(starts[2]).toBeLessThan(5_000);
  });
});
