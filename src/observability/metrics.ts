import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one server instance (served at /metrics). */
export interface AppMetrics {
  registry: Registry;
  graphqlRequests: Counter<'operation' | 'outcome'>;
  graphqlDuration: Histogram<'operation'>;
  proposals: Counter<'source'>;
  llmLatency: Histogram<'outcome'>;
  gateRefusals: Counter<'code'>;
  /** Model configuration errors seen (each detection once; later calls are not made). */
  llmConfigErrors: Counter<'model'>;
  /** 1 while the configured model is known to be unusable. */
  llmModelMisconfigured: Gauge;
  /** Webhook delivery attempts by outcome: delivered, retry (failed, tried again later), failed (given up), abandoned (its instance died). */
  webhookAttempts: Counter<'outcome'>;
  /** From a ledger event to its webhook's successful delivery. */
  webhookLag: Histogram;
  /** Endpoints disabled because they failed for the whole retry period. */
  webhookEndpointsDisabled: Counter;
  /** Ledger log leaves recomputed from their entries, by who: request or background. */
  ledgerLeavesRecomputed: Counter<'by'>;
}

export function createMetrics(): AppMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    graphqlRequests: new Counter({
      name: 'graphql_requests_total',
      help: 'GraphQL requests by operation name and outcome (ok, or the first error code)',
      labelNames: ['operation', 'outcome'],
      registers: [registry],
    }),
    graphqlDuration: new Histogram({
      name: 'graphql_request_duration_seconds',
      help: 'GraphQL request duration by operation name',
      labelNames: ['operation'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    proposals: new Counter({
      name: 'plan_proposals_total',
      help: 'Plans proposed, by source (LLM or RULES)',
      labelNames: ['source'],
      registers: [registry],
    }),
    llmLatency: new Histogram({
      name: 'llm_request_duration_seconds',
      help: 'Latency of LLM proposal calls by outcome',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16],
      registers: [registry],
    }),
    gateRefusals: new Counter({
      name: 'policy_gate_refusals_total',
      help: 'Policy Gate refusals by reason code',
      labelNames: ['code'],
      registers: [registry],
    }),
    llmConfigErrors: new Counter({
      name: 'llm_config_errors_total',
      help: 'Configuration errors of the LLM (model not found or permission denied), counted once per detection',
      labelNames: ['model'],
      registers: [registry],
    }),
    llmModelMisconfigured: new Gauge({
      name: 'llm_model_misconfigured',
      help: '1 while the configured LLM model is unusable (the rules generator serves), else 0',
      registers: [registry],
    }),
    webhookAttempts: new Counter({
      name: 'webhook_delivery_attempts_total',
      help: 'Webhook delivery attempts by outcome (delivered, retry, failed = given up, abandoned = its instance stopped mid-attempt)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    webhookLag: new Histogram({
      name: 'webhook_delivery_lag_seconds',
      help: 'Time from a ledger event to the successful delivery of its webhook',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30, 300, 3600],
      registers: [registry],
    }),
    webhookEndpointsDisabled: new Counter({
      name: 'webhook_endpoints_disabled_total',
      help: 'Webhook endpoints disabled because every delivery failed for the whole retry period',
      registers: [registry],
    }),
    ledgerLeavesRecomputed: new Counter({
      name: 'ledger_leaves_recomputed_total',
      help: 'Ledger log leaves recomputed from their entries to verify a checkpoint, by request or background',
      labelNames: ['by'],
      registers: [registry],
    }),
  };
}
