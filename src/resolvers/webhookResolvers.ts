import type { Resolvers } from '../generated/graphql.js';
import { requireRole } from '../graphql/context.js';
import { toConnection } from '../graphql/connections.js';

// Signed webhooks (schema/webhooks.graphql): all plan-admin, all within the caller's tenant.
// Secrets leave only through WebhookEndpointSecret, at creation and rotation.
export const webhookResolvers: Resolvers = {
  Query: {
    webhookEndpoints: (_root, _args, ctx) => ctx.services.webhooks.listEndpoints(requireRole(ctx, 'plan-admin')),
    webhookDeliveries: async (_root, { endpointId, status, first, after }, ctx) =>
      toConnection(await ctx.services.webhooks.listDeliveries(requireRole(ctx, 'plan-admin'), { endpointId, status }, { first, after }), { after }),
  },
  Mutation: {
    createWebhookEndpoint: (_root, { url, eventTypes }, ctx) => ctx.services.webhooks.createEndpoint(requireRole(ctx, 'plan-admin'), { url, eventTypes }),
    rotateWebhookSecret: (_root, { endpointId }, ctx) => ctx.services.webhooks.rotateSecret(requireRole(ctx, 'plan-admin'), endpointId),
    setWebhookEndpointEnabled: (_root, { endpointId, enabled }, ctx) => ctx.services.webhooks.setEnabled(requireRole(ctx, 'plan-admin'), endpointId, enabled),
    sendTestWebhook: (_root, { endpointId }, ctx) => ctx.services.webhooks.sendTest(requireRole(ctx, 'plan-admin'), endpointId),
    redeliverWebhook: (_root, { deliveryId }, ctx) => ctx.services.webhooks.redeliver(requireRole(ctx, 'plan-admin'), deliveryId),
  },
  WebhookEndpoint: {
    endpointId: (e) => e._id,
    url: (e) => e.url,
    eventTypes: (e) => e.event_types,
    enabled: (e) => e.enabled,
    disabledReason: (e) => e.disabled_reason,
    createdAt: (e) => e.created_at,
  },
  WebhookDelivery: {
    deliveryId: (d) => d._id,
    endpointId: (d) => d.endpoint_id,
    eventId: (d) => d.event_id,
    eventType: (d) => d.event_type,
    status: (d) => d.status,
    attempts: (d) => d.attempts,
    lastStatusCode: (d) => d.last_status_code,
    lastError: (d) => d.last_error,
    nextAttemptAt: (d) => (d.status === 'PENDING' ? d.next_attempt_at : null),
    deliveredAt: (d) => d.delivered_at,
  },
};
