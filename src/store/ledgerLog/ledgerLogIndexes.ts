import type { IndexDirection } from 'mongodb';

// Collections and indexes of the tenant Merkle logs (docs/store.md, "The verifiable log").
// Every key starts with tenant_id. The unique ones are what makes sealing exactly-once without
// transactions: a leaf position holds one leaf ({tenant_id, index}, also its _id) and an entry
// is sealed once ({tenant_id, entry_id}), however many sealers race.

export const LEDGER_LOG_COLLECTIONS = {
  leaves: 'ledger_log_leaves',
  entryLeaves: 'ledger_log_entry_leaves',
  nodes: 'ledger_log_nodes',
  tiles: 'ledger_log_tiles',
  checkpoints: 'ledger_log_checkpoints',
  checkpointSizes: 'ledger_log_checkpoint_sizes',
  leases: 'ledger_log_leases',
  /** Per tenant: the largest checkpoint whose leaves were recomputed from the entries and matched, with the frontier there. */
  verifiedPrefixes: 'ledger_log_verified_prefixes',
} as const;

/** One index of a collection (its name, keys, and whether they are unique). */
export interface IndexDefinition {
  name: string;
  key: Record<string, IndexDirection>;
  unique?: boolean;
}

export const LEDGER_LOG_INDEXES: readonly (readonly [string, IndexDefinition])[] = [
  [LEDGER_LOG_COLLECTIONS.leaves, { name: 'ledger_log_leaf_index', key: { tenant_id: 1, index: 1 }, unique: true }],
  [LEDGER_LOG_COLLECTIONS.leaves, { name: 'ledger_log_leaf_entry', key: { tenant_id: 1, entry_id: 1 }, unique: true }],
  [LEDGER_LOG_COLLECTIONS.nodes, { name: 'ledger_log_node', key: { tenant_id: 1, level: 1, index: 1 }, unique: true }],
  [LEDGER_LOG_COLLECTIONS.checkpoints, { name: 'ledger_log_checkpoint_seq', key: { tenant_id: 1, seq: 1 }, unique: true }],
  [LEDGER_LOG_COLLECTIONS.checkpoints, { name: 'ledger_log_checkpoint_size', key: { tenant_id: 1, tree_size: 1 }, unique: true }],
];
