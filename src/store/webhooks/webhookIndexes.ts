import type { Db, IndexDirection } from 'mongodb';

// Collections and indexes of signed webhooks (docs/webhooks.md). Tenant-scoped reads start
// with tenant_id; the dispatcher's work lists (enabled endpoints, due deliveries) span tenants.

export const WEBHOOK_COLLECTIONS = {
  endpoints: 'webhook_endpoints',
  deliveries: 'webhook_deliveries',
  /** One document per claimed attempt, `_id` `<delivery>#<n>`: the insert is the claim. */
  attempts: 'webhook_attempts',
  /** Per tenant: the next Merkle log leaf the dispatcher has not yet turned into deliveries. */
  cursors: 'webhook_cursors',
  leases: 'webhook_leases',
} as const;

interface IndexDefinition {
  name: string;
  key: Record<string, IndexDirection>;
}

export const WEBHOOK_INDEXES: readonly (readonly [string, IndexDefinition])[] = [
  [WEBHOOK_COLLECTIONS.endpoints, { name: 'webhook_endpoint_tenant', key: { tenant_id: 1, created_at: 1 } }],
  [WEBHOOK_COLLECTIONS.endpoints, { name: 'webhook_endpoint_enabled', key: { enabled: 1 } }],
  [WEBHOOK_COLLECTIONS.deliveries, { name: 'webhook_delivery_recent', key: { tenant_id: 1, created_at: -1, _id: -1 } }],
  [WEBHOOK_COLLECTIONS.deliveries, { name: 'webhook_delivery_endpoint', key: { tenant_id: 1, endpoint_id: 1, created_at: -1, _id: -1 } }],
  [WEBHOOK_COLLECTIONS.deliveries, { name: 'webhook_delivery_due', key: { status: 1, next_attempt_at: 1 } }],
];

/** Creates the webhook indexes, one per command (safe on every start). */
export async function ensureWebhookIndexes(db: Db): Promise<void> {
  for (const [collection, { key, ...options }] of WEBHOOK_INDEXES) await db.collection(collection).createIndex(key, options);
}
