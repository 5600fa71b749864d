// The tenant's webhook endpoints and recent deliveries (plan-admin only; hidden otherwise), with
// a "Send test" per endpoint. Endpoints are created through the API (the secret is shown once there).
import { gql } from './api.js';
import type { AppContext } from './context.js';
import { h, replace } from './dom.js';
import { shortHash, statusBadge, timeEl } from './format.js';
import { SEND_TEST_WEBHOOK, WEBHOOKS, type DashboardWebhooksQuery, type WebhookDelivery, type WebhookEndpoint } from './queries.js';

const RECENT = 20;

export class WebhooksView {
  private readonly section = h('section', { id: 'webhooks-section', class: 'panel', 'aria-labelledby': 'webhooks-heading', hidden: true });
  private readonly body = h('div', { id: 'webhooks-body' });

  constructor(
    dashboard: HTMLElement,
    private readonly ctx: AppContext,
  ) {
    replace(
      this.section,
      h('div', { class: 'section-head' }, h('h2', { id: 'webhooks-heading' }, 'Webhooks'), h('button', { type: 'button', class: 'secondary', id: 'webhooks-refresh', onClick: () => void this.reload() }, 'Refresh')),
      this.body,
    );
    dashboard.append(this.section);
  }

  async reload(): Promise<void> {
    const token = this.ctx.token();
    this.section.hidden = !token || !this.ctx.can('plan-admin');
    if (this.section.hidden || !token) return;
    this.body.setAttribute('aria-busy', 'true');
    try {
      const data = await gql<DashboardWebhooksQuery>(WEBHOOKS, { first: RECENT }, token);
      replace(this.body, this.endpoints(data.webhookEndpoints), this.deliveries(data.webhookDeliveries.edges.map((e) => e.node)));
    } catch (e) {
      this.ctx.fail(e, this.body, 'Loading webhooks');
    } finally {
      this.body.removeAttribute('aria-busy');
    }
  }

  private endpoints(list: readonly WebhookEndpoint[]): HTMLElement {
    if (list.length === 0) return h('div', { class: 'empty', id: 'webhook-endpoints-empty' }, h('p', {}, 'No webhook endpoints. Create one with the createWebhookEndpoint mutation.'));
    return h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        { id: 'webhook-endpoints', class: 'data-table' },
        h('caption', {}, 'Endpoints'),
        h('thead', {}, h('tr', {}, ...['URL', 'Events', 'State', 'Created', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h(
          'tbody',
          {},
          ...list.map((e) =>
            h(
              'tr',
              { 'data-endpoint-id': e.endpointId },
              h('td', { class: 'url' }, h('code', {}, e.url)),
              h('td', {}, e.eventTypes.length ? e.eventTypes.join(', ') : 'all'),
              h('td', { class: 'state' }, e.enabled ? 'enabled' : `disabled${e.disabledReason ? `: ${e.disabledReason}` : ''}`),
              h('td', {}, timeEl(e.createdAt)),
              h('td', {}, h('button', { type: 'button', class: 'secondary send-test', onClick: () => void this.sendTest(e) }, 'Send test')),
            ),
          ),
        ),
      ),
    );
  }

  private deliveries(list: readonly WebhookDelivery[]): HTMLElement {
    if (list.length === 0) return h('div', { class: 'empty', id: 'webhook-deliveries-empty' }, h('p', {}, 'No deliveries yet.'));
    return h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        { id: 'webhook-deliveries', class: 'data-table' },
        h('caption', {}, `Recent deliveries (last ${RECENT})`),
        h('thead', {}, h('tr', {}, ...['Event', 'Event id', 'Status', 'Attempts', 'Last answer', 'Delivered / next'].map((t) => h('th', { scope: 'col' }, t)))),
        h(
          'tbody',
          {},
          ...list.map((d) =>
            h(
              'tr',
              { 'data-delivery-id': d.deliveryId, 'data-status': d.status },
              h('td', {}, d.eventType),
              h('td', {}, h('code', { title: d.eventId }, shortHash(d.eventId))),
              h('td', {}, statusBadge(d.status)),
              h('td', {}, d.attempts),
              h('td', { class: 'answer' }, d.lastError ?? (d.lastStatusCode === null || d.lastStatusCode === undefined ? '—' : `HTTP ${d.lastStatusCode}`)),
              h('td', {}, timeEl(d.deliveredAt ?? d.nextAttemptAt)),
            ),
          ),
        ),
      ),
    );
  }

  private async sendTest(endpoint: WebhookEndpoint): Promise<void> {
    const token = this.ctx.token();
    if (!token) return;
    try {
      await gql(SEND_TEST_WEBHOOK, { endpointId: endpoint.endpointId }, token);
      this.ctx.announce(`Test event queued for ${endpoint.url}.`, 'success');
      await this.reload();
    } catch (e) {
      this.ctx.fail(e, null, 'Sending a test event');
    }
  }
}
