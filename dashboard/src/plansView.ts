// Plans of the tenant: counts per status, filters (account, status), a list, and "load more".
import { gql } from './api.js';
import type { AppContext } from './context.js';
import { h, replace, uid } from './dom.js';
import { relativeTime, statusBadge, timeEl } from './format.js';
import { PLAN_STATUSES, PLANS, STATUS_COUNTS, TERMINAL_STATUSES, type DashboardPlansQuery, type DashboardStatusCountsQuery, type PlanStatus, type PlanSummary } from './queries.js';

interface Filter {
  accountId: string;
  status: PlanStatus | '';
}

export class PlansView {
  private filter: Filter = { accountId: '', status: '' };
  private pageSize = 10;
  private rows: PlanSummary[] = [];
  private endCursor: string | null = null;
  private hasNextPage = false;
  private selectedPlanId: string | null = null;
  private loading = false;
  /** Bumped by every reload: answers to an older reload are dropped (filters clicked in quick succession). */
  private generation = 0;
  private readonly countButtons = new Map<PlanStatus | '', HTMLButtonElement>();

  private readonly counts = h('div', { class: 'status-counts', role: 'group', 'aria-label': 'Plans per status (select one to filter)' });
  private readonly list = h('div', { class: 'plans-list', id: 'plans-list' });
  private readonly listError = h('div', {});
  private readonly loadMoreButton = h('button', { type: 'button', class: 'secondary', id: 'load-more', hidden: true }, 'Load more');
  private readonly summary = h('p', { class: 'muted', id: 'plans-summary' });
  private readonly accountInput: HTMLInputElement;
  private readonly statusSelect: HTMLSelectElement;
  private readonly pageSizeSelect: HTMLSelectElement;

  constructor(
    root: HTMLElement,
    private readonly ctx: AppContext,
    private readonly onProposeRequested: () => void,
  ) {
    const accountId = uid('filter-account');
    const statusId = uid('filter-status');
    const sizeId = uid('filter-size');
    this.accountInput = h('input', { id: accountId, name: 'accountId', type: 'search', autocomplete: 'off', spellcheck: 'false', placeholder: 'e.g. acct-1001' });
    this.statusSelect = h('select', { id: statusId, name: 'status' }, h('option', { value: '' }, 'All statuses'), ...PLAN_STATUSES.map((st) => h('option', { value: st }, st)));
    this.pageSizeSelect = h('select', { id: sizeId, name: 'pageSize' }, ...[5, 10, 25, 50].map((n) => h('option', { value: n, selected: n === this.pageSize }, String(n))));

    const form = h(
      'form',
      { class: 'filters', id: 'plan-filters', role: 'search', 'aria-label': 'Filter plans' },
      h('div', { class: 'field' }, h('label', { for: accountId }, 'Account id'), this.accountInput),
      h('div', { class: 'field' }, h('label', { for: statusId }, 'Status'), this.statusSelect),
      h('div', { class: 'field' }, h('label', { for: sizeId }, 'Page size'), this.pageSizeSelect),
      h('div', { class: 'field actions' }, h('button', { type: 'submit' }, 'Apply filters'), h('button', { type: 'button', class: 'secondary', onClick: () => this.clearFilters() }, 'Clear')),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.filter = { accountId: this.accountInput.value.trim(), status: this.statusSelect.value as PlanStatus | '' };
      this.pageSize = Number(this.pageSizeSelect.value) || 10;
      void this.reload();
    });
    this.loadMoreButton.addEventListener('click', () => void this.loadMore());
    for (const status of ['', ...PLAN_STATUSES] as const) {
      const button = h(
        'button',
        { type: 'button', class: `count ${status ? `status-${status.toLowerCase()}` : 'all'}`, 'aria-pressed': status === '' ? 'true' : 'false', 'data-status': status || 'ALL' },
        h('span', { class: 'count-number' }, '…'),
        h('span', { class: 'count-label' }, status || 'All'),
      );
      button.addEventListener('click', () => {
        this.statusSelect.value = status;
        this.filter = { ...this.filter, status };
        void this.reload();
      });
      this.countButtons.set(status, button);
      this.counts.append(button);
    }
    replace(root, h('h2', { id: 'plans-heading' }, 'Plans'), this.counts, form, this.summary, this.listError, this.list, this.loadMoreButton);
  }

  /** Highlights the open plan's row. */
  select(planId: string | null): void {
    this.selectedPlanId = planId;
    this.list.querySelectorAll<HTMLTableRowElement>('tr[data-plan-id]').forEach((row) => {
      if (row.dataset['planId'] === planId) row.setAttribute('aria-current', 'true');
      else row.removeAttribute('aria-current');
    });
  }

  private clearFilters(): void {
    this.accountInput.value = '';
    this.statusSelect.value = '';
    this.filter = { accountId: '', status: '' };
    void this.reload();
  }

  private graphqlFilter(): Record<string, unknown> | null {
    const f: Record<string, unknown> = {};
    if (this.filter.accountId) f['accountId'] = this.filter.accountId;
    if (this.filter.status) f['status'] = [this.filter.status];
    return Object.keys(f).length ? f : null;
  }

  /** First page of the list, and the counts. */
  async reload(): Promise<void> {
    const generation = ++this.generation;
    this.rows = [];
    this.endCursor = null;
    this.hasNextPage = false;
    this.countButtons.forEach((button, status) => button.setAttribute('aria-pressed', String(status === this.filter.status)));
    await Promise.all([this.fetchPage(generation), this.loadCounts(generation)]);
  }

  private async loadMore(): Promise<void> {
    if (!this.hasNextPage || this.loading) return;
    const before = this.rows.length;
    await this.fetchPage(this.generation);
    // Keyboard users land on the first new row instead of at the end of the page.
    const firstNew = this.list.querySelectorAll<HTMLButtonElement>('tr[data-plan-id] button')[before];
    firstNew?.focus();
  }

  private async fetchPage(generation: number): Promise<void> {
    const token = this.ctx.token();
    if (!token) return;
    this.loading = true;
    this.list.setAttribute('aria-busy', 'true');
    this.loadMoreButton.disabled = true;
    replace(this.listError);
    try {
      const data = await gql<DashboardPlansQuery>(PLANS, { filter: this.graphqlFilter(), first: this.pageSize, after: this.endCursor }, token);
      if (generation !== this.generation) return;
      this.rows.push(...data.plans.edges.map((e) => e.node));
      this.endCursor = data.plans.pageInfo.endCursor;
      this.hasNextPage = data.plans.pageInfo.hasNextPage;
      this.render();
    } catch (e) {
      if (generation === this.generation) this.ctx.fail(e, this.listError, 'Loading plans');
    } finally {
      this.loading = false;
      this.list.removeAttribute('aria-busy');
      this.loadMoreButton.disabled = false;
    }
  }

  private render(): void {
    const filtered = Boolean(this.filter.accountId || this.filter.status);
    this.loadMoreButton.hidden = !this.hasNextPage;
    replace(this.summary, this.rows.length ? `Showing ${this.rows.length} plan${this.rows.length === 1 ? '' : 's'}${this.hasNextPage ? ' (more available)' : ''}, most recently updated first.` : '');
    if (!this.rows.length) {
      replace(
        this.list,
        filtered
          ? h('div', { class: 'empty', id: 'plans-empty' }, h('p', {}, 'No plans match these filters.'), h('button', { type: 'button', class: 'secondary', onClick: () => this.clearFilters() }, 'Clear filters'))
          : h('div', { class: 'empty', id: 'plans-empty' }, h('p', {}, 'No plans yet — propose one.'), h('button', { type: 'button', onClick: () => this.onProposeRequested() }, 'Propose a plan')),
      );
      return;
    }
    const table = h(
      'table',
      { class: 'plans' },
      h('caption', { class: 'visually-hidden' }, 'Plans'),
      h(
        'thead',
        {},
        h('tr', {}, ...['Account', 'Objective', 'Status', 'Expires', ''].map((label) => h('th', { scope: 'col' }, label ? label : h('span', { class: 'visually-hidden' }, 'Open')))),
      ),
      h(
        'tbody',
        {},
        ...this.rows.map((plan) =>
          h(
            'tr',
            { 'data-plan-id': plan.planId, 'data-status': plan.status, 'aria-current': plan.planId === this.selectedPlanId ? 'true' : null },
            h('td', { class: 'account' }, h('code', {}, plan.accountId)),
            h('td', { class: 'objective' }, plan.objective, h('span', { class: 'muted small block' }, 'updated ', timeEl(plan.updatedAt))),
            h('td', {}, statusBadge(plan.status)),
            h(
              'td',
              { class: 'when' },
              TERMINAL_STATUSES.includes(plan.status) ? null : h('span', { class: 'block' }, relativeTime(plan.expiresAt)),
              h('time', { datetime: plan.expiresAt, class: 'muted small block' }, plan.expiresAt.slice(0, 10)),
            ),
            h('td', {}, h('button', { type: 'button', class: 'secondary small', 'aria-label': `Open plan for ${plan.accountId} (${plan.status})`, onClick: () => void this.ctx.openPlan(plan.planId, { focus: true }) }, 'Open')),
          ),
        ),
      ),
    );
    replace(this.list, table);
  }

  private async loadCounts(generation: number): Promise<void> {
    const token = this.ctx.token();
    if (!token) return;
    const filter = this.filter.accountId ? { accountId: this.filter.accountId } : null;
    try {
      const data = await gql<DashboardStatusCountsQuery>(STATUS_COUNTS, { filter }, token);
      const byStatus = new Map(data.planStatusCounts.map((c) => [c.status, c.count]));
      if (generation === this.generation) this.renderCounts(PLAN_STATUSES.map((status) => ({ status, count: byStatus.get(status) ?? 0 })));
    } catch (e) {
      if (generation !== this.generation) return;
      this.countButtons.forEach((button) => replace(button.querySelector('.count-number') ?? button, '?'));
      this.ctx.fail(e, null, 'Counting plans');
    }
  }

  /** Updates the count buttons in place (so keyboard focus on one of them survives a refresh). */
  private renderCounts(counts: { status: PlanStatus; count: number }[]): void {
    const total = counts.reduce((a, c) => a + c.count, 0);
    const set = (status: PlanStatus | '', text: string, label: string) => {
      const button = this.countButtons.get(status);
      if (!button) return;
      replace(button.querySelector('.count-number') ?? button, text);
      button.setAttribute('aria-label', `${label}: ${text} plan${text === '1' ? '' : 's'}`);
      button.setAttribute('aria-pressed', String(status === this.filter.status));
    };
    set('', String(total), 'All statuses');
    for (const c of counts) set(c.status, String(c.count), c.status);
  }
}
