import { LEDGER_EVENT_TYPES, type LedgerEventType } from './enums.js';
import type { LedgerEntryRecord } from './ledger.js';

// What a webhook carries: one ledger entry, shaped as the API's LedgerEntry shows it (camelCase),
// inside the Standard Webhooks envelope {type, timestamp, data}. The message id (webhook-id) is
// the entry's id, so a receiver deduplicates redeliveries by it.

/** The type of the event sendTestWebhook sends. */
export const WEBHOOK_TEST_EVENT = 'webhook.test';

/** The envelope's JSON text for a ledger entry. */
export function ledgerEntryWebhookBody(entry: LedgerEntryRecord): string {
  return JSON.stringify({
    type: entry.event_type,
    timestamp: entry.timestamp.toISOString(),
    data: {
      entryId: entry.entry_id,
      planId: entry.plan_id,
      tenantId: entry.tenant_id,
      accountId: entry.account_id,
      eventType: entry.event_type,
      timestamp: entry.timestamp.toISOString(),
      seq: entry.seq,
      actor: entry.actor,
      data: entry.data,
      prevHash: entry.prev_hash,
      hash: entry.hash,
    },
  });
}

/** The envelope of a test event. */
export function testWebhookBody(args: { eventId: string; tenantId: string; endpointId: string; at: Date }): string {
  return JSON.stringify({
    type: WEBHOOK_TEST_EVENT,
    timestamp: args.at.toISOString(),
    data: { eventId: args.eventId, tenantId: args.tenantId, endpointId: args.endpointId },
  });
}

/** The event types an endpoint takes, checked: null (all) for empty or absent; the unknown names otherwise. */
export function parseEventTypes(names: readonly string[] | null | undefined): { ok: true; types: LedgerEventType[] } | { ok: false; unknown: string[] } {
  if (!names || names.length === 0) return { ok: true, types: [] };
  const known = new Set<string>(LEDGER_EVENT_TYPES);
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) return { ok: false, unknown };
  return { ok: true, types: [...new Set(names)] as LedgerEventType[] };
}

/** Whether an endpoint subscribed to `types` (empty: all) takes an event of `eventType`. */
export const takesEvent = (types: readonly string[], eventType: string): boolean => types.length === 0 || types.includes(eventType);
