import type { Db, IndexDirection } from 'mongodb';
import { OPEN_ASSIGNEE_FIELDS } from '../domain/stepWorkload.js';
import { LEDGER_LOG_INDEXES, type IndexDefinition } from './ledgerLog/ledgerLogIndexes.js';
import { ensurePlaybookIndexes } from './planTypeConfigs/playbookIndexes.js';
import { PROPOSAL_RUN_INDEXES } from './proposalRuns/proposalRunIndexes.js';
import { PLAN_COUNTER_INDEXES } from './planCounterIndexes.js';
import { TALLY_MARK } from './tallyMark.js';

// Every index the store relies on, by fixed name, so ensureIndexes is idempotent (creating an
// existing index with the same name and keys is a no-op) and a changed definition fails loudly
// instead of piling up a second index. Every key starts with tenant_id because every query
// filters by it; the exceptions are the sweeps' indexes (plans_pending_since,
// plans_status_expires) and the uniqueness of ledger entry ids (ledger_entry_id). MongoDB and
// the embedded FerretDB (built with tools/ferretdb/patches) serve the store's queries from them
// (docs/store.md; test/store/indexedQueries.test.ts).

export const PLANS_COLLECTION = 'plans';
export const PLAN_LEDGER_COLLECTION = 'plan_ledger';

export const PLAN_INDEX = {
  /** Active-plan lookups: findActivePlanIds. */
  accountTypeStatus: 'plans_tenant_account_type_status',
  /** listPlans without filters: updated_at desc, _id desc keyset. */
  updated: 'plans_tenant_updated',
  /** listPlans by status. */
  statusUpdated: 'plans_tenant_status_updated',
  /** listPlans by account. */
  accountUpdated: 'plans_tenant_account_updated',
  /**
   * One ACTIVE plan per tenant + account + plan type (see PlanRepository: active_slot).
   * account_id is in the key so that the index stays legal when plans is sharded on
   * {tenant_id, account_id}: a sharded unique index must start with the shard key.
   */
  activeSlot: 'plans_tenant_account_active_slot',
  /** The repair sweep: plans whose ledger event is still pending, oldest first, any tenant. */
  pendingSince: 'plans_pending_since',
  /** The expiry sweep: APPROVED and ACTIVE plans past expires_at, any tenant. */
  expiryDue: 'plans_status_expires',
  /** plans(filter: {overdue: true}): next_due_at before now, most overdue first (docs/steps.md). */
  nextDue: 'plans_tenant_next_due',
  /** plans(filter: {assignee}): one index per open_assignee_N field, each in the list's order (PlanRepository merges them). */
  openAssignee: (n: number) => `plans_tenant_open_assignee_${n}`,
  /** The tally job's work list: plans of any tenant written since their share was counted (PlanCounters). */
  tallyMark: 'plans_tally_mark',
  /** One tenant's marked plans: what a count read adds to the kept counts. */
  tenantTallyMark: 'plans_tenant_tally_mark',
} as const;

export const LEDGER_INDEX = {
  /** One entry per seq per plan: serializes appends and keeps a chain from forking. */
  planSeq: 'ledger_tenant_plan_seq',
  /** The tenant feed, newest first. */
  time: 'ledger_tenant_time',
  /** The tenant feed filtered by account. */
  accountTime: 'ledger_tenant_account_time',
  /** ledgerStats by event type: counts per event type per day. */
  eventDay: 'ledger_tenant_event_day',
  /**
   * ledgerStats over a time window: the range on timestamp, with the grouped fields in the
   * index, so the embedded store counts from the index without parsing every document.
   */
  timeEventDay: 'ledger_tenant_time_event_day',
  /** An entry id is stored once (entries' _id is their position and their id; see PlanLedger). */
  entryId: 'ledger_entry_id',
} as const;

export const PLAN_INDEXES: readonly IndexDefinition[] = [
  { name: PLAN_INDEX.accountTypeStatus, key: { tenant_id: 1, account_id: 1, plan_type: 1, plan_status: 1 } },
  { name: PLAN_INDEX.updated, key: { tenant_id: 1, updated_at: -1, _id: -1 } },
  { name: PLAN_INDEX.statusUpdated, key: { tenant_id: 1, plan_status: 1, updated_at: -1, _id: -1 } },
  { name: PLAN_INDEX.accountUpdated, key: { tenant_id: 1, account_id: 1, updated_at: -1, _id: -1 } },
  { name: PLAN_INDEX.activeSlot, key: { tenant_id: 1, account_id: 1, active_slot: 1 }, unique: true },
  { name: PLAN_INDEX.pendingSince, key: { 'pending_event.timestamp': 1 } },
  { name: PLAN_INDEX.expiryDue, key: { plan_status: 1, expires_at: 1 } },
  { name: PLAN_INDEX.nextDue, key: { tenant_id: 1, next_due_at: 1, _id: 1 } },
  ...OPEN_ASSIGNEE_FIELDS.map((field, i) => ({ name: PLAN_INDEX.openAssignee(i + 1), key: { tenant_id: 1, [field]: 1, updated_at: -1, _id: -1 } as Record<string, IndexDirection> })),
  { name: PLAN_INDEX.tallyMark, key: { [TALLY_MARK]: 1 } },
  { name: PLAN_INDEX.tenantTallyMark, key: { tenant_id: 1, [TALLY_MARK]: 1 } },
];

export const LEDGER_INDEXES: readonly IndexDefinition[] = [
  { name: LEDGER_INDEX.planSeq, key: { tenant_id: 1, plan_id: 1, seq: 1 }, unique: true },
  { name: LEDGER_INDEX.time, key: { tenant_id: 1, timestamp: -1, _id: -1 } },
  { name: LEDGER_INDEX.accountTime, key: { tenant_id: 1, account_id: 1, timestamp: -1, _id: -1 } },
  { name: LEDGER_INDEX.eventDay, key: { tenant_id: 1, event_type: 1, day: 1 } },
  { name: LEDGER_INDEX.timeEventDay, key: { tenant_id: 1, timestamp: 1, event_type: 1, day: 1 } },
  { name: LEDGER_INDEX.entryId, key: { entry_id: 1 }, unique: true },
];

/**
 * Creates both collections' indexes; safe to call on every start. One index per command:
 * FerretDB v1.24 drops the connection when a createIndexes naming two or more indexes finds
 * all of them already there.
 */
export async function ensureIndexes(db: Db): Promise<void> {
  for (const [collection, definitions] of [
    [PLANS_COLLECTION, PLAN_INDEXES],
    [PLAN_LEDGER_COLLECTION, LEDGER_INDEXES],
  ] as const) {
    for (const { key, ...options } of definitions) await db.collection(collection).createIndex(key, options);
  }
  // The verifiable log's collections (docs/store.md, "The verifiable log").
  for (const [collection, { key, ...options }] of [...LEDGER_LOG_INDEXES, ...PROPOSAL_RUN_INDEXES]) await db.collection(collection).createIndex(key, options);
  // Tenant playbooks (docs/playbooks.md).
  await ensurePlaybookIndexes(db);
  // Kept counts (docs/store.md, "Kept counts").
  for (const [collection, { key, ...options }] of PLAN_COUNTER_INDEXES) await db.collection(collection).createIndex(key, options);
}
