import { randomUUID } from 'node:crypto';
import type { Document } from 'mongodb';
import { hashLedgerEntry, utcDay, type HashedLedgerFields } from '../../src/store/ledgerHash.js';
import { ledgerEntryKey } from '../../src/store/PlanLedger.js';
import type { WriteTemplate } from './types.js';

// Documents the bench writes straight through the driver: the raw-driver baseline of
// proposePlan, and the bulk-loaded ledger of case 3. Both take their shape from the service's
// own stored documents, its ledger hash and its ledger keys (an entry's _id is its position,
// ledgerEntryKey(tenant, plan, seq), also kept as entry_id), so the service reads them as its own.

/** A new plan and its first ledger entry shaped like the template (the service's own documents). */
export function freshWrite(template: WriteTemplate, tenant: string, n: number): { plan: Document; entry: Document } {
  const now = new Date();
  const planId = randomUUID();
  const accountId = `raw-acct-${n % 997}`;
  const { pending_event: _pending, ...planTemplate } = template.plan;
  const steps = Array.isArray(planTemplate.steps)
    ? (planTemplate.steps as Record<string, unknown>[]).map((s) => ({ ...s, step_id: randomUUID() }))
    : [];
  const plan: Document = {
    ...planTemplate,
    _id: planId,
    tenant_id: tenant,
    account_id: accountId,
    steps,
    active_slot: planId,
    created_at: now,
    updated_at: now,
    expires_at: new Date(now.getTime() + 30 * 86_400_000),
  };
  const { _id: _entryId, ...entryTemplate } = template.entry;
  return { plan, entry: ledgerDocument({ ...entryTemplate, plan_id: planId, tenant_id: tenant, account_id: accountId }, 1, null, now) };
}

/** A stored ledger entry (with day and hash) for seq `seq` after an entry hashed `prevHash`. */
function ledgerDocument(base: Record<string, unknown>, seq: number, prevHash: string | null, timestamp: Date): Document {
  const key = ledgerEntryKey(String(base.tenant_id), String(base.plan_id), seq);
  const fields: HashedLedgerFields = {
    entry_id: key,
    plan_id: String(base.plan_id),
    tenant_id: String(base.tenant_id),
    account_id: String(base.account_id),
    event_type: typeof base.event_type === 'string' ? base.event_type : 'PLAN_CREATED',
    timestamp,
    seq,
    actor: typeof base.actor === 'string' ? base.actor : 'bench',
    data: (base.data ?? {}) as Record<string, unknown>,
    prev_hash: prevHash,
  };
  return { _id: key, ...fields, day: utcDay(timestamp), hash: hashLedgerEntry(fields) };
}

const STORY = ['PLAN_CREATED', 'PLAN_UPDATED', 'PLAN_APPROVED', 'PLAN_ACTIVATED', 'STEP_STARTED', 'STEP_COMPLETED'] as const;

/**
 * One plan's hash-chained ledger of `length` entries (seq 1..length), oldest first, each with
 * a small data payload like the service's. Valid: verifyPlanLedger accepts it.
 */
export function ledgerChain(tenant: string, planId: string, accountId: string, length: number, start: Date): Document[] {
  const entries: Document[] = [];
  let prevHash: string | null = null;
  for (let seq = 1; seq <= length; seq++) {
    const eventType = seq <= 4 ? STORY[seq - 1] : STORY[4 + (seq % 2)];
    const data: Record<string, unknown> =
      seq === 1
        ? { source: 'RULES', proposal_id: randomUUID(), input_summary: { signals: 2, history: 0, unknown_signal_types: 0 } }
        : { step_id: `step-${seq % 3}`, note: 'bench-loaded entry', attempt: seq };
    const doc = ledgerDocument(
      { plan_id: planId, tenant_id: tenant, account_id: accountId, event_type: eventType, actor: 'bench-loader', data },
      seq,
      prevHash,
      new Date(start.getTime() + seq * 1000),
    );
    prevHash = doc.hash as string;
    entries.push(doc);
  }
  return entries;
}
