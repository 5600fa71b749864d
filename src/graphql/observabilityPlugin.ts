import type { ApolloServerPlugin } from '@apollo/server';
import { Kind } from 'graphql';
import type { GraphQLContext } from './context.js';
import type { Logger } from '../observability/logger.js';
import type { AppMetrics } from '../observability/metrics.js';

/** One structured log line and the request metrics for every GraphQL operation. */
export function observabilityPlugin(metrics: AppMetrics, logger: Logger): ApolloServerPlugin<GraphQLContext> {
  return {
    // A request Apollo refuses before any operation runs (batching, method, media type, CSRF
    // preflight, a GET mutation, ...): a client error, logged and counted like the others.
    async invalidRequestWasReceived({ error }) {
      metrics.graphqlRequests.inc({ operation: 'unparsed', outcome: 'BAD_REQUEST' });
      logger.info({ rootField: 'unparsed', outcome: 'BAD_REQUEST', reason: error.message.slice(0, 200) }, 'graphql request');
    },
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ contextValue: ctx, operationName, operation, response, errors }) {
          const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
          // Metric labels use the root field (bounded by the schema), not the client-chosen name.
          const firstField = operation?.selectionSet.selections.find((sel) => sel.kind === Kind.FIELD);
          const rootField = firstField?.kind === Kind.FIELD ? firstField.name.value : 'unparsed';
          const name = operationName ? operationName.slice(0, 64) : null;
          // The formatted errors carry the final codes (see formatError).
          const sent = response.body.kind === 'single' ? (response.body.singleResult.errors ?? []) : [];
          const outcome = sent.length ? String(sent[0]?.extensions?.code ?? 'INTERNAL_SERVER_ERROR') : errors?.length ? 'INTERNAL_SERVER_ERROR' : 'ok';
          metrics.graphqlRequests.inc({ operation: rootField, outcome });
          metrics.graphqlDuration.observe({ operation: rootField }, durationMs / 1000);
          ctx.logger.info(
            { operation: name, rootField, tenant: ctx.principal?.tenantId ?? null, actor: ctx.principal?.sub ?? null, outcome, durationMs: Math.round(durationMs * 10) / 10 },
            'graphql request',
          );
        },
      };
    },
  };
}
