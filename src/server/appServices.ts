import type { Db } from 'mongodb';
import type { AppServices } from '../services/AppServices.js';
import type { AppConfig } from '../config/env.js';
import type { AppMetrics } from '../observability/metrics.js';
import type { Logger } from '../observability/logger.js';
import { instrumentLlmClient } from './instrumentLlmClient.js';
import { createLlmClientFromConfig } from '../services/llm/GeminiPlanClient.js';
import { PlanExpiry } from '../services/lifecycle/PlanExpiry.js';
import { ModelAvailabilityGuard } from '../services/llm/modelAvailability.js';
import { PlanLifecycleService } from '../services/lifecycle/PlanLifecycleService.js';
import { PlanTypeCatalog } from '../services/planTypes/PlanTypeCatalog.js';
import { PlaybookCache } from '../services/playbooks/PlaybookCache.js';
import { PlaybookService } from '../services/playbooks/PlaybookService.js';
import { PlanTypeConfigStore } from '../store/planTypeConfigs/PlanTypeConfigStore.js';
import { PlanProposalService } from '../services/plans/PlanProposalService.js';
import { PlanQueryService } from '../services/plans/PlanQueryService.js';
import { PlanProposalGenerator } from '../services/proposal/PlanProposalGenerator.js';
import { ensureIndexes } from '../store/indexes.js';
import { PlanLedger } from '../store/PlanLedger.js';
import { PlanRepository } from '../store/PlanRepository.js';
import { PlanStore } from '../store/PlanStore.js';
import { StepProgressService } from '../services/steps/StepProgressService.js';
import { LedgerLogService } from '../services/ledgerLog/LedgerLogService.js';
import { TenantWorkLimiter } from '../services/tenantWorkLimiter.js';
import { LedgerSealer } from '../services/ledgerLog/LedgerSealer.js';
import { LedgerVerifier } from '../services/ledgerLog/LedgerVerifier.js';
import { LedgerLogStore } from '../store/ledgerLog/LedgerLogStore.js';
import { ledgerSignerFromConfig } from './ledgerSigner.js';
import { EndpointSecrets } from '../services/webhooks/endpointSecrets.js';
import { SecretBox } from '../services/webhooks/secretBox.js';
import { WebhookDispatcher } from '../services/webhooks/WebhookDispatcher.js';
import { WebhookSender, type Resolver } from '../services/webhooks/webhookSender.js';
import { WebhookService } from '../services/webhooks/WebhookService.js';
import { WebhookStore } from '../store/webhooks/WebhookStore.js';
import { webhookSecretKeyFromConfig } from './webhookSecretKey.js';
import { rateLimitLlmClient } from '../services/llm/rateLimitedLlmClient.js';
import { ProposalRunStore } from '../store/proposalRuns/ProposalRunStore.js';
import { ProposalRunService } from '../services/proposalRuns/ProposalRunService.js';
import { ProposalRunWorker, newHolderId } from '../services/proposalRuns/ProposalRunWorker.js';
import { RunItemProcessor } from '../services/proposalRuns/RunItemProcessor.js';
import { InteractiveLoad } from '../services/proposalRuns/InteractiveLoad.js';

/** How often half-written plans are swept and repaired (see PlanOutbox). */
const REPAIR_INTERVAL_MS = 30_000;
const REPAIR_MIN_AGE_MS = 5_000;
/** Where several instances share a store (MongoDB), how often the sealer looks for entries another one left unsealed. */
const RECONCILE_INTERVAL_MS = 60_000;
/** How often the background verifier looks for new checkpoints when the sealer told it of none. */
const VERIFY_INTERVAL_MS = 5_000;
/**
 * How often APPROVED and ACTIVE plans past their expiry are moved to EXPIRED. Reads expire a
 * plan anyway; the sweep frees the active slot and the counts of plans nobody reads.
 */
const EXPIRY_SWEEP_INTERVAL_MS = 60_000;
/** How often the kept counts take in the plans written since (reads are exact meanwhile: they add what is not taken in yet). */
const COUNTER_TALLY_INTERVAL_MS = 500;
/** How often the kept counts are recounted from the plans (plans written without a mark, a counter document that drifted). */
const COUNTER_REPAIR_INTERVAL_MS = 3_600_000;
/**
 * How far back the start-up sweep looks for plans a crash lost between createPlan's two
 * inserts (a restart after a longer outage would need a manual store.outbox.restoreSince).
 */
const RESTORE_LOOKBACK_MS = 7 * 86_400_000;

export interface AppServiceDeps {
  config: AppConfig;
  metrics: AppMetrics;
  logger: Logger;
  db: Db;
  /**
   * The store serves this process alone (the embedded store): later sweeps repair only what
   * this process left half-written, and the sealer does not look for other instances' entries.
   */
  singleProcessStore?: boolean;
  /** How webhook receivers' names are resolved (tests inject one; the system resolver otherwise). */
  webhookResolver?: Resolver;
}

export function createAppServices({ config, metrics, logger, db, singleProcessStore = false, webhookResolver }: AppServiceDeps): AppServices {
  // The store reports what it hides from callers (driver errors) to the service's log.
  const storeLogger = logger.child({ component: 'store' });
  const plans = new PlanRepository(db, { logger: storeLogger });
  const ledgerLogStore = new LedgerLogStore(db, { logger: storeLogger });
  const signer = ledgerSignerFromConfig(config, logger);
  const verifier =
    config.LEDGER_VERIFIER === 'on'
      ? new LedgerVerifier({
          store: ledgerLogStore,
          signer,
          logger: logger.child({ component: 'ledger-verifier' }),
          intervalMs: VERIFY_INTERVAL_MS,
          leavesPerSecond: config.LEDGER_VERIFY_LEAVES_PER_SECOND,
          rescanIntervalMs: singleProcessStore ? 0 : RECONCILE_INTERVAL_MS,
          onLeaves: (n) => metrics.ledgerLeavesRecomputed.inc({ by: 'background' }, n),
        })
      : null;
  const sealer =
    config.LEDGER_SEALER === 'on'
      ? new LedgerSealer({
          store: ledgerLogStore,
          signer,
          logger: logger.child({ component: 'ledger-sealer' }),
          intervalMs: config.LEDGER_CHECKPOINT_INTERVAL_MS,
          ...(verifier ? { onSigned: (tenantId: string) => verifier.notify(tenantId) } : {}),
        })
      : null;
  const webhookStore = new WebhookStore(db, { logger: storeLogger });
  const webhookSecrets = new EndpointSecrets(new SecretBox(webhookSecretKeyFromConfig(config, logger)));
  const webhookSender = new WebhookSender({ policy: { allowLoopback: config.WEBHOOK_ALLOW_LOOPBACK }, ...(webhookResolver ? { resolver: webhookResolver } : {}) });
  const webhookDispatcher =
    config.WEBHOOK_DISPATCHER === 'on'
      ? new WebhookDispatcher({
          store: webhookStore,
          log: ledgerLogStore,
          secrets: webhookSecrets,
          sender: webhookSender,
          metrics,
          logger: logger.child({ component: 'webhooks' }),
          retry: { baseMs: config.WEBHOOK_RETRY_BASE_MS, maxDelayMs: 3_600_000, retryForMs: config.WEBHOOK_RETRY_FOR_MS },
          timeoutMs: config.WEBHOOK_TIMEOUT_MS,
          concurrency: config.WEBHOOK_ENDPOINT_CONCURRENCY,
          pollIntervalMs: config.WEBHOOK_POLL_INTERVAL_MS,
        })
      : null;
  // Both the sealer and the webhook dispatcher learn of each append at once, with no read.
  const onAppended =
    sealer || webhookDispatcher
      ? (entry: Parameters<LedgerSealer['notify']>[0]) => {
          sealer?.notify(entry);
          webhookDispatcher?.notify(entry);
        }
      : undefined;
  const ledger = new PlanLedger(db, { logger: storeLogger, ...(onAppended ? { onAppended } : {}) });
  const store = new PlanStore(db, { plans, ledger, logger: storeLogger });
  const playbookStore = new PlanTypeConfigStore(db, { ledger, logger: storeLogger });
  const playbooks = new PlaybookService({ store: playbookStore, cache: new PlaybookCache(playbookStore) });
  const gemini = createLlmClientFromConfig(config);
  // A model that does not exist (or that the key may not use) is said once, loudly, and then
  // not called again: the rules serve until the configuration is fixed and the process restarts.
  const llm = gemini
    ? new ModelAvailabilityGuard(gemini, (status) => {
        logger.error({ model: status.model, reason: status.reason }, 'LLM MISCONFIGURED: the model is unusable; proposals use the rules generator');
        metrics.llmConfigErrors.inc({ model: status.model });
        metrics.llmModelMisconfigured.set(1);
      })
    : null;
  if (llm) metrics.llmModelMisconfigured.set(0);
  // Outermost, so the latency metric is the model's and not the wait for a turn.
  const limited = llm ? rateLimitLlmClient(instrumentLlmClient(llm, metrics), { requestsPerMinute: config.GEMINI_REQUESTS_PER_MINUTE, interactiveMaxWaitMs: config.LLM_TIMEOUT_MS }) : null;
  const generator = new PlanProposalGenerator({
    llm: limited,
    fallback: config.PROPOSAL_LLM_FALLBACK,
  });
  const expiry = new PlanExpiry({ store, logger: logger.child({ component: 'expiry' }) });
  let sweeper: { stop(): Promise<void> } | null = null;
  let expirySweeper: { stop(): Promise<void> } | null = null;
  let counterJob: { stop(): Promise<void> } | null = null;
  // Reads whose cost grows with a tenant's data share one limiter: one job per tenant at a time.
  const limiter = new TenantWorkLimiter();
  const queries = new PlanQueryService({ store, expiry, limiter });
  const proposals = new PlanProposalService({ store, generator, metrics, expiry, playbooks });
  const runStore = new ProposalRunStore(db, { logger: storeLogger });
  const holder = newHolderId();
  const interactiveLoad = new InteractiveLoad();
  const runWorker =
    config.PROPOSAL_RUN_WORKER === 'on'
      ? new ProposalRunWorker({
          runs: runStore,
          processor: new RunItemProcessor({ runs: runStore, proposals, holder }),
          logger: logger.child({ component: 'proposal-runs' }),
          holder,
          concurrency: config.PROPOSAL_RUN_CONCURRENCY,
          leaseTtlMs: config.PROPOSAL_RUN_LEASE_MS,
          pollMs: config.PROPOSAL_RUN_POLL_MS,
          interactive: interactiveLoad,
        })
      : null;

  return {
    config,
    metrics,
    logger,
    planTypes: new PlanTypeCatalog(playbooks),
    playbooks,
    proposals,
    lifecycle: new PlanLifecycleService({ store, playbooks, metrics, expiry }),
    queries,
    steps: new StepProgressService({ store, expiry }),
    store,
    expiry,
    llmStatus: () => llm?.status() ?? null,
    ledgerLog: new LedgerLogService({
      store: ledgerLogStore,
      signer,
      sealer,
      queries,
      limiter,
      requestLeaves: config.LEDGER_VERIFY_REQUEST_MAX_LEAVES,
      backgroundLeavesPerSecond: config.LEDGER_VERIFY_LEAVES_PER_SECOND,
      onLeavesRecomputed: (n) => metrics.ledgerLeavesRecomputed.inc({ by: 'request' }, n),
    }),
    sealer,
    verifier,
    webhooks: new WebhookService({
      store: webhookStore,
      log: ledgerLogStore,
      secrets: webhookSecrets,
      sender: webhookSender,
      dispatcher: webhookDispatcher,
      requireHttps: config.isProduction,
      allowLoopback: config.WEBHOOK_ALLOW_LOOPBACK,
      rotationOverlapMs: config.WEBHOOK_ROTATION_OVERLAP_MS,
    }),
    webhookDispatcher,
    proposalRuns: new ProposalRunService({ runs: runStore, ...(runWorker ? { onStarted: () => runWorker.notify() } : {}) }),
    runWorker,
    interactiveLoad,
    start: async () => {
      await ensureIndexes(db);
      await webhookStore.ensureIndexes();
      // At start nothing of ours is in flight: restore plans a crash lost between their two
      // inserts and complete every half-written change now.
      try {
        const restored = await store.outbox.restoreSince(new Date(Date.now() - RESTORE_LOOKBACK_MS));
        if (restored > 0) logger.warn({ restored }, 'restored plans from their PLAN_CREATED entries');
      } catch (e) {
        logger.warn({ err: e }, 'restoring lost plans failed; reads restore them one by one');
      }
      try {
        const repaired = await store.outbox.repairOlderThan(0);
        if (repaired > 0) logger.warn({ repaired }, 'completed half-written plan changes');
      } catch (e) {
        logger.warn({ err: e }, 'repair sweep failed; will retry');
      }
      // Later sweeps query the whole store only where several instances may share it; the
      // embedded store's one process repairs what it left half-written from its repair list.
      try {
        const settled = await playbookStore.settleAllPending();
        if (settled > 0) logger.warn({ settled }, 'completed half-written playbook publishes or retires');
      } catch (e) {
        logger.warn({ err: e }, 'playbook sweep failed; reads of each playbook complete it');
      }
      sweeper = store.outbox.startRepairTimer({ intervalMs: REPAIR_INTERVAL_MS, olderThanMs: REPAIR_MIN_AGE_MS, scan: !singleProcessStore });
      try {
        const expired = await expiry.sweep();
        if (expired > 0) logger.info({ expired }, 'expired plans past their expiry');
      } catch (e) {
        logger.warn({ err: e }, 'expiry sweep failed; will retry');
      }
      expirySweeper = expiry.start({ intervalMs: EXPIRY_SWEEP_INTERVAL_MS });
      // Plans written before the kept counts get their derived fields and a mark, then every
      // mark is tallied off the request path (docs/store.md, "Kept counts").
      if (config.PLAN_COUNTS_TALLY === 'on') counterJob = store.counters.start({ intervalMs: COUNTER_TALLY_INTERVAL_MS, repairIntervalMs: COUNTER_REPAIR_INTERVAL_MS });
      // After the sweeps (whose appends it is told of): entries a previous process left unsealed
      // are found by comparing counts, then sealing runs on its timer.
      await sealer?.start({ reconcileIntervalMs: singleProcessStore ? 0 : RECONCILE_INTERVAL_MS });
      await webhookDispatcher?.start();
      // Brings every tenant's verified prefix up to its latest checkpoint, paced, then follows the sealer.
      verifier?.start();
      // Runs left RUNNING by a previous process are taken up again once their leases expire.
      runWorker?.start();
    },
    stop: async () => {
      await runWorker?.stop();
      await limited?.stop();
      await sweeper?.stop();
      await expirySweeper?.stop();
      await counterJob?.stop();
      await verifier?.stop();
      await sealer?.stop();
      await webhookDispatcher?.stop();
    },
  };
}
