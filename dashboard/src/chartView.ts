// Ledger events per day by type, from ledgerStats, for a window of recent UTC days.
import { gql } from './api.js';
import { renderEventsChart, toChartData } from './chart.js';
import type { AppContext } from './context.js';
import { h, replace, uid } from './dom.js';
import { lastDays } from './format.js';
import { LEDGER_STATS, type DashboardLedgerStatsQuery } from './queries.js';

export class ChartView {
  private days = 14;
  private readonly body = h('div', { id: 'chart-body' });

  constructor(
    root: HTMLElement,
    private readonly ctx: AppContext,
  ) {
    const selectId = uid('chart-days');
    const select = h('select', { id: selectId, name: 'days' }, ...[7, 14, 30, 60].map((n) => h('option', { value: n, selected: n === this.days }, `Last ${n} days`)));
    select.addEventListener('change', () => {
      this.days = Number(select.value) || 14;
      void this.reload();
    });
    replace(
      root,
      h('div', { class: 'section-head' }, h('h2', { id: 'chart-heading' }, 'Ledger events per day'), h('div', { class: 'field inline' }, h('label', { for: selectId }, 'Window'), select)),
      this.body,
    );
  }

  async reload(): Promise<void> {
    const token = this.ctx.token();
    if (!token) return;
    const days = lastDays(this.days);
    const since = `${days[0]}T00:00:00.000Z`;
    this.body.setAttribute('aria-busy', 'true');
    try {
      const data = await gql<DashboardLedgerStatsQuery>(LEDGER_STATS, { filter: { since } }, token);
      const chart = toChartData(data.ledgerStats, days);
      replace(
        this.body,
        chart.total
          ? renderEventsChart(chart, `Ledger events per UTC day by type, ${days[0]} to ${days[days.length - 1]}`)
          : h('div', { class: 'empty', id: 'chart-empty' }, h('p', {}, `No ledger events in the last ${this.days} days.`)),
      );
    } catch (e) {
      replace(this.body);
      this.ctx.fail(e, this.body, 'Loading ledger statistics');
    } finally {
      this.body.removeAttribute('aria-busy');
    }
  }
}
