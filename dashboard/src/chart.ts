// Ledger events per UTC day, stacked by event type, as inline SVG (no chart library).
import { h, s, uid } from './dom.js';
import { LEDGER_EVENT_TYPES, type LedgerEventCount, type LedgerEventType } from './queries.js';

/** Colours with at least 3:1 contrast against the white plot (WCAG 1.4.11 for graphics). */
export const EVENT_COLOURS: Record<LedgerEventType, string> = {
  PLAN_CREATED: '#1d4ed8',
  PLAN_UPDATED: '#7c3aed',
  PLAN_APPROVED: '#047857',
  PLAN_ACTIVATED: '#0e7490',
  PLAN_PAUSED: '#b45309',
  PLAN_RESUMED: '#4d7c0f',
  PLAN_ABORTED: '#b91c1c',
  PLAN_COMPLETED: '#4338ca',
  PLAN_EXPIRED: '#4b5563',
  STEP_STARTED: '#be185d',
  STEP_COMPLETED: '#0f766e',
  STEP_SKIPPED: '#a16207',
  STEP_FAILED: '#9f1239',
  PLAN_TYPE_CONFIG_PUBLISHED: '#0369a1',
  PLAN_TYPE_CONFIG_RETIRED: '#57534e',
};

const WIDTH = 720;
const HEIGHT = 260;
const MARGIN = { top: 16, right: 12, bottom: 44, left: 44 };

/** A whole-number axis: a round step (1, 2, 5 × 10^k) giving at most 5 intervals, and the top. */
export function axisScale(max: number): { top: number; step: number } {
  if (max <= 0) return { top: 1, step: 1 };
  const raw = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  let step = Math.max(1, ([1, 2, 5, 10].map((m) => m * magnitude).find((c) => c >= raw) ?? 10 * magnitude));
  step = Math.ceil(step);
  return { top: Math.ceil(max / step) * step, step };
}

export interface ChartData {
  days: string[];
  /** Event types present in the data, in vocabulary order. */
  types: LedgerEventType[];
  /** day -> type -> count */
  counts: Map<string, Map<LedgerEventType, number>>;
  total: number;
}

export function toChartData(stats: readonly LedgerEventCount[], days: readonly string[]): ChartData {
  const counts = new Map<string, Map<LedgerEventType, number>>(days.map((d) => [d, new Map()]));
  const present = new Set<LedgerEventType>();
  let total = 0;
  for (const row of stats) {
    const day = counts.get(row.day);
    if (!day || row.count <= 0) continue; // outside the window shown
    day.set(row.eventType, (day.get(row.eventType) ?? 0) + row.count);
    present.add(row.eventType);
    total += row.count;
  }
  return { days: [...days], types: LEDGER_EVENT_TYPES.filter((t) => present.has(t)), counts, total };
}

/** The chart, its legend and the same numbers as a table (for screen readers and exact values). */
export function renderEventsChart(data: ChartData, caption: string): HTMLElement {
  const titleId = uid('chart-title');
  const descId = uid('chart-desc');
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const dayTotals = data.days.map((d) => [...(data.counts.get(d)?.values() ?? [])].reduce((a, b) => a + b, 0));
  const { top: yMax, step: yStep } = axisScale(Math.max(0, ...dayTotals));
  const band = plotW / Math.max(1, data.days.length);
  const barW = Math.max(4, Math.min(40, band * 0.7));
  const y = (v: number) => MARGIN.top + plotH - (v / yMax) * plotH;

  const svg = s('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    class: 'chart',
    role: 'img',
    'aria-labelledby': `${titleId} ${descId}`,
    preserveAspectRatio: 'xMidYMid meet',
  });
  svg.append(s('title', { id: titleId }, caption));
  svg.append(s('desc', { id: descId }, `${data.total} events over ${data.days.length} days. The table below the chart lists every number.`));

  // Horizontal grid lines and y labels.
  for (let value = 0; value <= yMax; value += yStep) {
    const yy = y(value);
    svg.append(s('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: yy, y2: yy, class: value === 0 ? 'axis' : 'grid' }));
    svg.append(s('text', { x: MARGIN.left - 6, y: yy + 4, 'text-anchor': 'end', class: 'tick' }, value));
  }

  const labelEvery = Math.ceil(data.days.length / 10);
  data.days.forEach((day, i) => {
    const x = MARGIN.left + band * i + (band - barW) / 2;
    let acc = 0;
    const group = s('g', { class: 'bar', 'data-day': day });
    for (const type of data.types) {
      const n = data.counts.get(day)?.get(type) ?? 0;
      if (n === 0) continue;
      const top = y(acc + n);
      const rect = s('rect', { x, y: top, width: barW, height: y(acc) - top, fill: EVENT_COLOURS[type], 'data-type': type, 'data-count': n });
      rect.append(s('title', {}, `${day} · ${type}: ${n}`));
      group.append(rect);
      acc += n;
    }
    svg.append(group);
    if (i % labelEvery === 0 || i === data.days.length - 1) {
      svg.append(s('text', { x: MARGIN.left + band * i + band / 2, y: HEIGHT - MARGIN.bottom + 16, 'text-anchor': 'middle', class: 'tick' }, day.slice(5)));
    }
  });
  svg.append(s('text', { x: MARGIN.left + plotW / 2, y: HEIGHT - 6, 'text-anchor': 'middle', class: 'axis-label' }, 'UTC day (month-day)'));

  const legend = h(
    'ul',
    { class: 'legend', 'aria-label': 'Event types' },
    ...data.types.map((type) =>
      h('li', {}, s('svg', { width: 14, height: 14, viewBox: '0 0 14 14', 'aria-hidden': 'true', focusable: 'false' }, s('rect', { width: 14, height: 14, rx: 2, fill: EVENT_COLOURS[type] })), ` ${type}`),
    ),
  );

  const table = h(
    'table',
    { class: 'data-table' },
    h('caption', {}, `${caption} (numbers)`),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Day'), ...data.types.map((t) => h('th', { scope: 'col' }, t)), h('th', { scope: 'col' }, 'Total'))),
    h(
      'tbody',
      {},
      ...data.days.map((day, i) =>
        h('tr', {}, h('th', { scope: 'row' }, day), ...data.types.map((t) => h('td', {}, data.counts.get(day)?.get(t) ?? 0)), h('td', {}, dayTotals[i] ?? 0)),
      ),
    ),
  );

  return h('figure', { class: 'chart-figure' }, svg, legend, h('details', {}, h('summary', {}, 'Show the numbers as a table'), table));
}
