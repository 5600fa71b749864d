import type { BenchCase } from '../lib/benchCase.js';
import { until } from '../lib/budget.js';
import { mb, verdictOf } from '../lib/figures.js';
import type { Row } from '../lib/report.js';
import { rate, ms } from '../lib/stats.js';

// Case 5: the main server's RSS after the first 1k proposals (before case 1) and again after
// 20k (after case 4), each after two forced full GCs and a pause. Two entries of the case list
// sharing the first point: the cases between them add proposals and time.

type Point = { count: number; rss: number; heapUsed: number | null; heapTotal: number | null; external: number | null; gcForced: boolean };

export function memoryCase(): { first: BenchCase; second: BenchCase } {
  let firstPoint: Point | null = null;
  const goal = 'RSS growth < 20%';
  const whatOf = (first: number, target: number) => `memory: server RSS after ${first.toLocaleString('en-US')} → ${target.toLocaleString('en-US')} proposals`;

  const first: BenchCase = {
    id: '5',
    title: 'memory, first point',
    slice: 0.0053,
    settleMs: 0,
    shares: ['mainServer'],
    seeds: ['proposals through the service (the main server)'],
    async run(h, window) {
      const { cfg } = h;
      try {
        const server = await h.mainServer();
        const point = await h.proposeUntil(server, h.mainDb, cfg.memoryFirst, window, `memory: proposals to ${cfg.memoryFirst}`);
        firstPoint = { count: point.count, ...(await h.settledMemory(server)) };
        h.log(`after ${point.count} proposals: RSS ${mb(firstPoint.rss)}, heap used ${mb(firstPoint.heapUsed)} of ${mb(firstPoint.heapTotal)}, external ${mb(firstPoint.external)}`);
        if (point.count < cfg.memoryFirst) h.notes.push(`5: the first memory point is at ${point.count} proposals (its time slice ended before ${cfg.memoryFirst}).`);
        return [];
      } catch (e) {
        return [h.failRow('5', whatOf(cfg.memoryFirst, cfg.memoryTarget), 'growth < 20%', e)];
      }
    },
  };

  const second: BenchCase = {
    id: '5',
    title: 'memory, second point',
    slice: 0.047,
    settleMs: 0,
    shares: ['mainServer'],
    seeds: ['proposals through the service (the main server)'],
    async run(h, window) {
      const { cfg } = h;
      const start = firstPoint;
      if (!start) return [];
      try {
        const server = await h.mainServer();
        const more = await h.proposeUntil(server, h.mainDb, cfg.memoryTarget, until(window.deadline - 30_000), `memory: proposals to ${cfg.memoryTarget}`);
        const end = await h.settledMemory(server);
        const growth = (end.rss - start.rss) / start.rss;
        const reached = more.count >= cfg.memoryTarget;
        if (!reached) h.notes.push(`5: the time budget ended the proposals at ${more.count.toLocaleString('en-US')} of ${cfg.memoryTarget.toLocaleString('en-US')} (${more.result ? `${rate(more.result.throughput)}, p50 ${ms(more.result.latency.p50)} at the end` : 'n/a'}), so growth is measured to ${more.count.toLocaleString('en-US')}.`);
        const row: Row = {
          id: '5',
          what: `memory: server RSS, ${start.count.toLocaleString('en-US')} → ${more.count.toLocaleString('en-US')} proposals`,
          load: `proposals at 16 in flight${h.wants('1') || h.wants('2') ? ' (cases 1–2 ran in between)' : ''}; RSS after 2 forced full GCs${end.gcForced && start.gcForced ? '' : ' (GC could not be forced)'} and a pause`,
          service: `RSS ${mb(start.rss)} → ${mb(end.rss)}`,
          baseline: `V8 heap used ${mb(start.heapUsed)} → ${mb(end.heapUsed)} (committed ${mb(start.heapTotal)} → ${mb(end.heapTotal)}); outside the heap (external) ${mb(start.external)} → ${mb(end.external)}`,
          ratio: `${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}% RSS`,
          goal,
          verdict: verdictOf(growth < 0.2, reached),
          figures: { first: start, second: { count: more.count, ...end }, growth, lastRun: more.result },
        };
        return [row];
      } catch (e) {
        return [h.failRow('5', whatOf(cfg.memoryFirst, cfg.memoryTarget), goal, e)];
      }
    },
  };
  return { first, second };
}
