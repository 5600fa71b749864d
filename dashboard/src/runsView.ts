// Proposal runs of the tenant (newest first): status, a progress bar, and the count per outcome.
// The panel follows runs on its own: it reloads every few seconds while one is OPEN or RUNNING.
import { gql } from './api.js';
import type { AppContext } from './context.js';
import { h, replace } from './dom.js';
import { relativeTime } from './format.js';
import { PROPOSAL_RUNS, type ProposalRunRow } from './runsQueries.js';

const FOLLOW_MS = 2000;
const IDLE_MS = 15_000;

const OUTCOMES: readonly [keyof ProposalRunRow['counts'], string][] = [
  ['created', 'created'],
  ['wouldCreate', 'would create'],
  ['skippedOpenPlan', 'open plan'],
  ['skippedDuplicate', 'duplicate'],
  ['rejected', 'rejected'],
  ['failed', 'failed'],
  ['pending', 'pending'],
];

function runRow(run: ProposalRunRow): HTMLElement {
  const c = run.counts;
  const done = c.total - c.pending;
  const label = `Run ${run.runId.slice(0, 8)}: ${done} of ${c.total} items processed`;
  return h(
    'tr',
    { 'data-run-id': run.runId, 'data-status': run.status },
    h('td', {}, h('code', { title: run.runId }, run.runId.slice(0, 8)), run.dryRun ? h('span', { class: 'chip' }, 'dry run') : null),
    h('td', { class: 'status' }, run.status),
    h('td', {}, h('progress', { max: Math.max(1, c.total), value: done, 'aria-label': label }), h('span', { class: 'small muted' }, ` ${done}/${c.total}`)),
    h(
      'td',
      { class: 'outcomes' },
      ...OUTCOMES.filter(([key]) => c[key] > 0).map(([key, text]) => h('span', { class: 'chip', 'data-outcome': key }, `${text} ${c[key]}`)),
    ),
    h('td', { class: 'when small' }, run.finishedAt ? `ended ${relativeTime(run.finishedAt)}` : run.startedAt ? `started ${relativeTime(run.startedAt)}` : `created ${relativeTime(run.createdAt)}`),
  );
}

export class RunsView {
  private readonly body = h('div', { id: 'runs-body' });
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    root: HTMLElement,
    private readonly ctx: AppContext,
  ) {
    replace(root, h('div', { class: 'section-head' }, h('h2', { id: 'runs-heading' }, 'Proposal runs')), this.body);
    void this.reload();
  }

  async reload(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    const token = this.ctx.token();
    let live = false;
    if (token) {
      try {
        const data = await gql<{ proposalRuns: { edges: { node: ProposalRunRow }[] } }>(PROPOSAL_RUNS, { first: 20 }, token);
        const runs = data.proposalRuns.edges.map((e) => e.node);
        live = runs.some((r) => r.status === 'OPEN' || r.status === 'RUNNING');
        replace(
          this.body,
          runs.length === 0
            ? h('p', { class: 'empty', id: 'runs-empty' }, 'No proposal runs yet (npm run propose:run -- accounts.jsonl starts one).')
            : h(
                'table',
                { class: 'runs' },
                h('thead', {}, h('tr', {}, ...['Run', 'Status', 'Progress', 'Outcomes', 'When'].map((t) => h('th', { scope: 'col' }, t)))),
                h('tbody', {}, ...runs.map(runRow)),
              ),
        );
      } catch (e) {
        this.ctx.fail(e, this.body, 'Loading proposal runs');
      }
    }
    this.timer = setTimeout(() => void this.reload(), live ? FOLLOW_MS : IDLE_MS);
  }
}

/** Adds the panel after the chart (the page's one hook). */
export function mountRunsView(ctx: AppContext): RunsView {
  const section = h('section', { id: 'runs-section', class: 'panel', 'aria-labelledby': 'runs-heading' });
  document.getElementById('chart-section')?.after(section);
  return new RunsView(section, ctx);
}
