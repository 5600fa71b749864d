import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { InteractiveLoad } from '../../src/services/proposalRuns/InteractiveLoad.js';
import { ProposalRunWorker } from '../../src/services/proposalRuns/ProposalRunWorker.js';
import type { RunItemProcessor, Turns } from '../../src/services/proposalRuns/RunItemProcessor.js';
import { ensureIndexes } from '../../src/store/indexes.js';
import type { StoredRun, StoredRunItem } from '../../src/store/index.js';
import { ProposalRunStore } from '../../src/store/proposalRuns/ProposalRunStore.js';
import { openTestDb, type TestDb } from '../support/testDb.js';
import { sleep, waitUntil } from '../support/wait.js';

/** When each item's task ran (performance.now()). */
interface Span {
  start: number;
  end: number;
}

/**
 * The worker's pacing against the real store: items go through its limiter at the configured
 * concurrency, and while API writes are in flight they start one at a time, apart.
 */
describe('ProposalRunWorker (real store): pacing of items', () => {
  let t: TestDb;
  let runs: ProposalRunStore;

  beforeAll(async () => {
    t = await openTestDb('worker');
    await ensureIndexes(t.db);
    runs = new ProposalRunStore(t.db);
  }, 30_000);
  afterAll(async () => {
    await t.close();
  });

  /** A processor whose items take `workMs` each and settle as WOULD_CREATE; records each item's span. */
  const recordingProcessor = (spans: Span[], workMs: number) =>
    ({
      async processBatch(run: StoredRun, items: readonly StoredRunItem[], turns: Turns) {
        const done = await Promise.all(
          items.map((item) =>
            turns.item(async () => {
              const start = performance.now();
              await sleep(workMs);
              spans.push({ start, end: performance.now() });
              return item;
            }),
          ),
        );
        const settled = done.filter((d): d is StoredRunItem => d !== 'retry').map((item) => ({ itemId: item.item_id, settlement: { outcome: 'WOULD_CREATE' as const } }));
        await runs.settleItems(run.tenant_id, settled, 'test', new Date());
        return settled.map(() => 'settled' as const);
      },
    }) as unknown as RunItemProcessor;

  /** Works a started run of `n` items to its end; the items' spans, in start order. */
  async function workRun(n: number, interactive: InteractiveLoad): Promise<Span[]> {
    const tenantId = `tenant-${randomUUID().slice(0, 8)}`;
    const run = await runs.createRun({ run_id: randomUUID(), tenant_id: tenantId, dry_run: true, created_by: 'tester', created_at: new Date() });
    await runs.addItems(
      tenantId,
      run.run_id,
      Array.from({ length: n }, (_, i) => ({ account_id: `acct-${i}`, plan_type: 'RENEWAL_DEFENSE', input: { accountId: `acct-${i}`, planType: 'RENEWAL_DEFENSE' } })),
    );
    await runs.setStatus(tenantId, run.run_id, ['OPEN'], 'RUNNING', new Date());
    const spans: Span[] = [];
    const worker = new ProposalRunWorker({ runs, processor: recordingProcessor(spans, 3), logger: pino({ level: 'silent' }), concurrency: 4, leaseTtlMs: 10_000, pollMs: 50, interactive });
    worker.start();
    try {
      await waitUntil('the run completed', async () => (await runs.getRun(tenantId, run.run_id))?.status === 'COMPLETED', 30_000, 50);
    } finally {
      await worker.stop();
    }
    return spans.sort((a, b) => a.start - b.start);
  }

  /** The most items running at once. */
  const mostAtOnce = (spans: Span[]) => Math.max(...spans.map((s) => spans.filter((o) => o.start <= s.start && o.end > s.start).length));

  it('without API writes in flight, items run at the limiter concurrency', async () => {
    const spans = await workRun(40, new InteractiveLoad());
    expect(spans).toHaveLength(40);
    expect(mostAtOnce(spans)).toBe(4);
  }, 60_000);

  it('while an API write is in flight, items run one at a time, each at least 8 ms after the last ended', async () => {
    const interactive = new InteractiveLoad();
    interactive.begin(); // a write that stays in flight for the whole run
    const spans = await workRun(20, interactive);
    expect(spans).toHaveLength(20);
    expect(mostAtOnce(spans)).toBe(1);
    const gaps = spans.slice(1).map((s, i) => s.start - spans[i]!.end);
    // Timers may fire up to a millisecond early by performance.now(); the gap is 8 ms.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(7);
  }, 60_000);
});
