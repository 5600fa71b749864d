// The store's public face: what services may use of it, and nothing else (services import only
// this module; the layering is in README, "Project layout"). The store's design: docs/store.md.
import type { PlanCounters } from './PlanCounters.js';
import type { PlanLedger } from './PlanLedger.js';
import type { PlanRepository } from './PlanRepository.js';
import type { PlanStore } from './PlanStore.js';

export type { LedgerFilter, LedgerVerification, LedgerVerificationResult } from './PlanLedger.js';
export { ledgerEntryKey } from './PlanLedger.js';
export { hashLedgerEntry } from './ledgerHash.js';
// The verifiable ledger's own collections (docs/store.md, "The verifiable ledger").
export type { CheckpointDoc, LedgerLogStore, NewLeaf } from './ledgerLog/LedgerLogStore.js';
export type { PlanCounters, PlanLedger, PlanRepository, PlanStore };
export type { CreatePlanInput, CreatePlanResult, DraftChanges, DraftFields } from './PlanStore.js';
export type { Outcome } from './outcome.js';
// A change of an existing plan with one ledger event (docs/store.md, "Adding an operation that changes a plan").
export type { PlanChangeDecision, PlanChangeInput, PlanEventInput, PlanFieldChanges, RemovablePlanField } from './planChange.js';
// Tenant playbooks (docs/playbooks.md).
export type { PlanTypeConfigStore, PlaybookHead, StoredPlaybookVersion } from './planTypeConfigs/PlanTypeConfigStore.js';
export { playbookChainId } from './planTypeConfigs/PlanTypeConfigStore.js';
// Signed webhooks' endpoints, deliveries and attempt claims (docs/webhooks.md).
export type { DeliveryFilter, SealedSecret, WebhookDeliveryRecord, WebhookDeliveryStatus, WebhookEndpointRecord, WebhookStore } from './webhooks/WebhookStore.js';
export { WEBHOOK_DELIVERY_STATUSES } from './webhooks/WebhookStore.js';

/**
 * The one store dependency services receive: the plan writes (a new plan or many, a change with one
 * ledger event, and its two common forms) and repairing reads of PlanStore, the plain reads of
 * its plans and its ledger. A PlanStore is one.
 */
export type Store = Pick<PlanStore, 'createPlan' | 'createPlans' | 'change' | 'transition' | 'updateDraft' | 'getPlanWithProposal' | 'getPlanRepaired' | 'verifyPlanLedger'> & {
  readonly plans: Pick<PlanRepository, 'getPlans' | 'listPlans' | 'listPlanHeads' | 'findActivePlanIds' | 'findExpiredIn'>;
  readonly ledger: Pick<PlanLedger, 'getByIds' | 'listByPlan' | 'listByPlans' | 'listForTenant' | 'stats'>;
  readonly counters: Pick<PlanCounters, 'statusCounts'>;
};
// Proposal runs (docs/runs.md).
export type { ItemSettlement, ItemWarning, NewRunItem, ProposalRunStore, StoredRun, StoredRunItem } from './proposalRuns/ProposalRunStore.js';
export { accountKey } from './proposalRuns/ProposalRunStore.js';
