import type { BenchCase } from '../lib/benchCase.js';
import { until } from '../lib/budget.js';
import { startBenchFakeGemini, type BenchFakeGemini } from '../lib/fakeGemini.js';
import { fmtRun, latencyOf, verdictOf } from '../lib/figures.js';
import { proposeBodies } from '../lib/harness.js';
import type { ServerProcess } from '../lib/processes.js';
import type { Row } from '../lib/report.js';
import { ms } from '../lib/stats.js';

// Case 4: proposePlan through the Gemini SDK against a fake Gemini answering after a fixed
// delay (own server and database); overhead = p50 − delay. Row 4′ repeats it with a tenth of
// the requests in flight, below the store's write capacity.

export const llmCase: BenchCase = {
  id: '4',
  title: 'proposePlan via the LLM (fake Gemini)',
  slice: 0.0166,
  settleMs: 30_000,
  seeds: [],
  async run(h, window) {
    const { cfg } = h;
    const goal = 'p50 − delay < 15 ms';
    const what = `proposePlan via LLM (fake Gemini, ${cfg.llmDelayMs} ms)`;
    const rows: Row[] = [];
    let fake: BenchFakeGemini | null = null;
    let server: ServerProcess | null = null;
    try {
      if (!window.fits(5000)) return [h.skipRow('4', what, goal, 'time budget')];
      fake = await startBenchFakeGemini(cfg.llmDelayMs);
      // The model's limiter lifted: this case measures the service's own overhead over the model's
      // latency (10c measures the limiter).
      server = await h.server('llm', 'bench_llm', { GEMINI_API_KEY: 'bench', GEMINI_BASE_URL: fake.baseUrl, GEMINI_REQUESTS_PER_MINUTE: '100000' });
      const c = cfg.llmConcurrency;
      const svc = await h.run(h.gqlJob(server, h.token, 'proposePlan via LLM (service)', proposeBodies, h.limits('proposePlan via LLM (service)', c), '"source":"LLM"'), window, server);
      const direct = await h.run(
        {
          kind: 'http',
          ...h.limits('fake Gemini called directly', c, { durationMs: Math.min(cfg.durationMs, 3000) }),
          url: `${fake.baseUrl}/v1beta/models/gemini-flash-latest:generateContent`,
          headers: { 'x-goog-api-key': 'bench' },
          bodies: [JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'plan' }] }], generationConfig: { responseMimeType: 'application/json' } })],
        },
        until(Date.now() + Math.max(window.left(), 15_000)),
      );
      const p50 = latencyOf(svc, 'p50');
      const overhead = p50 ? p50.value - cfg.llmDelayMs : Number.NaN;
      rows.push({
        id: '4',
        what,
        load: `closed loop, ${c} in flight; store writes as in case 1`,
        service: fmtRun(svc),
        baseline: `fake Gemini called directly: ${fmtRun(direct)}`,
        ratio: `overhead p50 ${p50?.lowerBound ? '> ' : ''}${ms(overhead)} (p50 − direct call p50: ${ms(svc.latency.p50 - direct.latency.p50)})`,
        goal,
        verdict: verdictOf(p50 ? overhead < 15 : null),
        figures: { service: svc, direct, overheadP50: overhead, overheadVsDirect: svc.latency.p50 - direct.latency.p50, fakeAnswered: fake.answered() },
      });
      // Diagnostic: the same path with few requests in flight, below the write capacity of
      // the store, so the figure is the path's own overhead rather than queueing for writes.
      const lowC = Math.max(1, Math.round(c / 10));
      if (!window.fits()) rows.push(h.skipRow('4′', `${what}, c=${lowC} (diagnostic)`, '(shows 4 without write queueing)', 'time budget'));
      else {
        const label = `proposePlan via LLM c=${lowC} (service)`;
        const low = await h.run(h.gqlJob(server, h.token, label, proposeBodies, h.limits(label, lowC), '"source":"LLM"'), window, server);
        rows.push({
          id: '4′',
          what: `${what}, c=${lowC} (diagnostic)`,
          load: `closed loop, ${lowC} in flight: offered load below the store's write capacity`,
          service: fmtRun(low),
          baseline: `fake Gemini delay ${cfg.llmDelayMs} ms`,
          ratio: `overhead p50 ${ms(low.latency.p50 - cfg.llmDelayMs)}`,
          goal: '(shows 4 without write queueing)',
          verdict: '',
          figures: { service: low, overheadP50: low.latency.p50 - cfg.llmDelayMs },
        });
      }
    } catch (e) {
      rows.push(h.failRow('4', what, goal, e));
    } finally {
      await server?.stop();
      await fake?.close().catch(() => undefined);
    }
    return rows;
  },
};
