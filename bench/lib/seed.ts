import type { Db, Document } from 'mongodb';
import { formatCheckpointNote } from '../../src/domain/ledgerCheckpoint.js';
import { appendLeaves, combineCover, fromHex, leafHash, toHex, type Hash } from '../../src/domain/merkleTree.js';
import { parsePrivateKey } from '../../src/config/ledgerSigningKey.js';
import { CheckpointSigner } from '../../src/services/ledgerLog/checkpointSigner.js';
import { LEDGER_LOG_COLLECTIONS } from '../../src/store/ledgerLog/ledgerLogIndexes.js';
import { checkpointKey, checkpointSizeKey, entryLeafKey, leafKey, nodeKey } from '../../src/store/ledgerLog/LedgerLogStore.js';
import { LedgerTiles } from '../../src/store/ledgerLog/LedgerTiles.js';
import { ledgerChain } from './documents.js';

// The bench's bulk path into the store: the documents the service itself would write (built by
// bench/lib/documents.ts and bench/lib/readSuite.ts with the service's own keys and hashes),
// inserted with unordered insertMany in batches of SEED_BATCH, two batches in flight.

export const SEED_BATCH = 500;

/** insertMany in batches, two in flight, until done or `until` (epoch ms); returns how many went in. */
export async function bulkInsert(db: Db, collection: string, batches: Iterable<Document[]>, until = Number.POSITIVE_INFINITY, stopped: () => boolean = () => false): Promise<number> {
  let n = 0;
  let inFlight: Promise<number> | null = null;
  for (const batch of batches) {
    if (Date.now() >= until || stopped()) break;
    const insert = db
      .collection(collection)
      .insertMany(batch, { ordered: false })
      .then((r) => r.insertedCount);
    if (inFlight) n += await inFlight;
    inFlight = insert;
  }
  if (inFlight) n += await inFlight;
  return n;
}

export interface LedgerSeed {
  tenant: string;
  /** Entries in all. */
  entries: number;
  /** Entries per plan (the last plan may have fewer). */
  perPlan: number;
  /** Plan ids are `${prefix}-plan-<n>`, accounts `${prefix}-acct-<n mod 997>`. */
  prefix: string;
  /** The id of the last plan (the newest, and the last rows of a store that scans). */
  lastPlanId?: string;
  /**
   * The first entry's time (by default so that the last is a minute ago). Entries are a second
   * apart, plan after plan, in the order written (the order the sealer seals a round in).
   */
  start?: Date;
  batchSize?: number;
}

/** `entries` ledger entries as hash-chained plans (the store's PlanLedger.verify accepts each), in insert batches. */
export function* ledgerBatches(seed: LedgerSeed): Generator<Document[]> {
  const batchSize = seed.batchSize ?? SEED_BATCH;
  const plans = Math.max(1, Math.ceil(seed.entries / seed.perPlan));
  const start = seed.start ?? new Date(Date.now() - (seed.entries + 60) * 1000);
  let batch: Document[] = [];
  for (let p = 0, n = 0; n < seed.entries; p++) {
    const planId = p === plans - 1 && seed.lastPlanId ? seed.lastPlanId : `${seed.prefix}-plan-${p}`;
    const planStart = new Date(start.getTime() + n * 1000);
    const chain = ledgerChain(seed.tenant, planId, `${seed.prefix}-acct-${p % 997}`, Math.min(seed.perPlan, seed.entries - n), planStart);
    n += chain.length;
    batch.push(...chain);
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/**
 * Writes ledger entries and their sealed log as the sealer would have written them, batch by
 * batch: the entries, a leaf and an entry lookup per entry, the completed tree nodes and full
 * tiles (the store's own tree and tile code); `checkpoint()` then signs the tree so far, as
 * the sealer's next checkpoint. Entries go into the log in the order given (the sealer's order
 * when their times rise, as ledgerBatches' do).
 */
export class SealedLogWriter {
  private state = { size: 0, frontier: [] as Hash[] };
  private checkpoints = 0;
  private readonly tiles: LedgerTiles;
  private readonly signer: CheckpointSigner;

  constructor(
    private readonly db: Db,
    private readonly tenant: string,
    signingKey: string,
  ) {
    // Every node a tile needs was completed by this writer (the tile code remembers them).
    this.tiles = new LedgerTiles(db.collection(LEDGER_LOG_COLLECTIONS.tiles), nodeKey);
    this.signer = new CheckpointSigner(parsePrivateKey(signingKey));
  }

  /** Entries in the log so far. */
  get size(): number {
    return this.state.size;
  }

  /** Inserts a batch of entries (stored ledger documents of this tenant) and their part of the log. */
  async append(entries: Document[], options: { entriesStored?: boolean } = {}): Promise<void> {
    const { tenant } = this;
    const leaves: Document[] = [];
    const lookups: Document[] = [];
    const hashes: Hash[] = [];
    for (const e of entries) {
      const index = this.state.size + hashes.length;
      const leaf = leafHash(fromHex(e.hash as string) as Hash);
      hashes.push(leaf);
      leaves.push({ _id: leafKey(tenant, index), tenant_id: tenant, index, entry_id: e.entry_id, entry_key: e._id, leaf_hash: toHex(leaf) });
      lookups.push({ _id: entryLeafKey(tenant, e.entry_id as string), tenant_id: tenant, entry_id: e.entry_id, index, entry_key: e._id });
    }
    const next = appendLeaves(this.state.size, this.state.frontier, hashes);
    const nodes = next.completed.filter((c) => c.id.level > 0).map((c) => ({ _id: nodeKey(tenant, c.id.level, c.id.index), tenant_id: tenant, level: c.id.level, index: c.id.index, hash: toHex(c.hash) }));
    const tileDocs = await this.tiles.filledBy(tenant, next.completed.map((c) => ({ id: c.id, hash: toHex(c.hash) })), () => Promise.resolve(new Map()));
    this.state = next;
    const { db } = this;
    await Promise.all([
      bulkInsert(db, LEDGER_LOG_COLLECTIONS.tiles, tileDocs.length > 0 ? [tileDocs] : []),
      options.entriesStored ? Promise.resolve(0) : bulkInsert(db, 'plan_ledger', [entries]),
      bulkInsert(db, LEDGER_LOG_COLLECTIONS.leaves, [leaves]),
      bulkInsert(db, LEDGER_LOG_COLLECTIONS.entryLeaves, [lookups]),
      bulkInsert(db, LEDGER_LOG_COLLECTIONS.nodes, nodes.length > 0 ? [nodes] : []),
    ]);
  }

  /** Signs a checkpoint of the log so far (the next in sequence) and stores it. */
  async checkpoint(): Promise<void> {
    const { tenant, state } = this;
    const seq = ++this.checkpoints;
    const root = toHex(combineCover(state.frontier));
    const timestamp = new Date();
    const note = formatCheckpointNote({ tenantId: tenant, treeSize: state.size, rootHash: root, timestamp });
    await this.db.collection(LEDGER_LOG_COLLECTIONS.checkpoints).insertOne({ _id: checkpointKey(tenant, seq) as never, tenant_id: tenant, seq, tree_size: state.size, root_hash: root, timestamp, key_id: this.signer.keyId, signature: this.signer.sign(note), note });
    await this.db.collection(LEDGER_LOG_COLLECTIONS.checkpointSizes).insertOne({ _id: checkpointSizeKey(tenant, state.size) as never, tenant_id: tenant, tree_size: state.size, seq });
  }
}
