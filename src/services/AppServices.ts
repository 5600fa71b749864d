import type { AppConfig } from '../config/env.js';
import type { Logger } from '../observability/logger.js';
import type { AppMetrics } from '../observability/metrics.js';
import type { PlanStore } from '../store/index.js';
import type { LedgerLogService } from './ledgerLog/LedgerLogService.js';
import type { LedgerSealer } from './ledgerLog/LedgerSealer.js';
import type { LedgerVerifier } from './ledgerLog/LedgerVerifier.js';
import type { PlanExpiry } from './lifecycle/PlanExpiry.js';
import type { PlanLifecycleService } from './lifecycle/PlanLifecycleService.js';
import type { ModelStatus } from './llm/modelAvailability.js';
import type { PlanTypeCatalog } from './planTypes/PlanTypeCatalog.js';
import type { PlaybookService } from './playbooks/PlaybookService.js';
import type { PlanProposalService } from './plans/PlanProposalService.js';
import type { PlanQueryService } from './plans/PlanQueryService.js';
import type { StepProgressService } from './steps/StepProgressService.js';
import type { WebhookDispatcher } from './webhooks/WebhookDispatcher.js';
import type { WebhookService } from './webhooks/WebhookService.js';
import type { ProposalRunService } from './proposalRuns/ProposalRunService.js';
import type { ProposalRunWorker } from './proposalRuns/ProposalRunWorker.js';
import type { InteractiveLoad } from './proposalRuns/InteractiveLoad.js';

/** The services resolvers call, built once per process (composed in server/appServices.ts). */
export interface AppServices {
  config: AppConfig;
  metrics: AppMetrics;
  logger: Logger;
  planTypes: PlanTypeCatalog;
  /** The tenants' playbooks (plan-type config versions). */
  playbooks: PlaybookService;
  proposals: PlanProposalService;
  lifecycle: PlanLifecycleService;
  queries: PlanQueryService;
  /** Step work on ACTIVE plans (docs/steps.md). */
  steps: StepProgressService;
  store: PlanStore;
  expiry: PlanExpiry;
  /** The model's configuration state for /health; null when no model is configured (rules only). */
  llmStatus(): ModelStatus | null;
  /** The verifiable ledger: checkpoints, proofs, verification (its sealer runs in start()). */
  ledgerLog: LedgerLogService;
  /** This process's sealer, null when LEDGER_SEALER=off. */
  sealer: LedgerSealer | null;
  /** This process's background verifier of the tenants' logs, null when LEDGER_VERIFIER=off. */
  verifier: LedgerVerifier | null;
  /** Signed webhooks: endpoints and deliveries (docs/webhooks.md). */
  webhooks: WebhookService;
  /** This process's webhook dispatcher, null when WEBHOOK_DISPATCHER=off. */
  webhookDispatcher: WebhookDispatcher | null;
  /** Proposal runs over the book of business (docs/runs.md). */
  proposalRuns: ProposalRunService;
  /** This process's run worker, null when PROPOSAL_RUN_WORKER=off. */
  runWorker: ProposalRunWorker | null;
  /** API writes in flight (the HTTP layer counts them; runs step aside for them). */
  interactiveLoad: InteractiveLoad;
  /** Start-up work (indexes, a repair sweep) and the periodic sweep. */
  start(): Promise<void>;
  stop(): Promise<void>;
}
