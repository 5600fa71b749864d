import { LRUCache } from 'lru-cache';
import type { Collection, Db, OptionalUnlessRequiredId } from 'mongodb';
import { LedgerEntryRecordSchema, type LedgerEntryRecord } from '../../domain/ledger.js';
import type { NodeId } from '../../domain/merkleTree.js';
import { PLAN_LEDGER_COLLECTION } from '../indexes.js';
import { consoleStoreLogger, bulkWriteFailure, isDuplicateKeyError, withStoreErrors, type StoreLogger } from '../mongoErrors.js';
import { LEDGER_LOG_COLLECTIONS } from './ledgerLogIndexes.js';
import { acquireLease, releaseLease } from '../leases.js';
import { LedgerTiles } from './LedgerTiles.js';
import { insertAllowingDuplicates } from '../insertEach.js';

// The documents of the tenant Merkle logs (docs/store.md, "The verifiable log"). Leaves, tree
// nodes and checkpoints are append-only: this class inserts them and never updates or deletes
// one. Every hot read is a read by _id: the _id of each document is derived from what a
// reader knows (tenant + leaf index, tenant + entry id, tenant + level + index, tenant + seq,
// tenant + tree size), so proofs and the sealer's state are O(log n) point reads on any store.
// The only mutable document is the sealer's lease (not part of the log).

export interface LeafDoc {
  _id: string;
  tenant_id: string;
  index: number;
  entry_id: string;
  /** The entry's _id in plan_ledger (its position key), to read it back by _id. */
  entry_key: string;
  /** Hex MTH of this leaf as sealed: the tree's level 0, for proofs. Verification never trusts it. */
  leaf_hash: string;
}

interface EntryLeafDoc {
  _id: string;
  tenant_id: string;
  entry_id: string;
  index: number;
  /** The entry's _id in plan_ledger, so a proof reads the entry and its leaf at once. */
  entry_key?: string;
}

interface NodeDoc {
  _id: string;
  tenant_id: string;
  level: number;
  index: number;
  hash: string;
}

export interface CheckpointDoc {
  _id: string;
  tenant_id: string;
  /** 1, 2, 3… per tenant: consecutive, so the latest is found by probing. */
  seq: number;
  tree_size: number;
  root_hash: string;
  timestamp: Date;
  key_id: string;
  signature: string;
  note: string;
}

interface CheckpointSizeDoc {
  _id: string;
  tenant_id: string;
  tree_size: number;
  seq: number;
}

/**
 * The leaves 0..tree_size-1, recomputed from their entries, hashed to root_hash, the signed root
 * of the checkpoint of that size; frontier: the tree's frontier there (hex), to go on from.
 */
export interface VerifiedPrefixDoc {
  _id: string;
  tenant_id: string;
  tree_size: number;
  root_hash: string;
  frontier: string[];
  /** The service's signature over the fields above (verifiedPrefix.ts): a record written by anyone else counts as none. */
  signature: string;
  key_id: string;
  verified_at: Date;
  /** A checkpoint beyond tree_size whose leaves the background verifier recomputed and found not to match (the log was changed). */
  mismatch_tree_size?: number;
}

interface LeaseDoc {
  _id: string;
  tenant_id: string;
  holder: string;
  expires_at: Date;
}

/** A leaf to append: the entry it seals and its leaf hash. */
export interface NewLeaf {
  entry_id: string;
  entry_key: string;
  leaf_hash: string;
}

/** An entry as the verifier sees it: its stored fields, or why they cannot be read. */
export type StoredEntry = { ok: true; record: LedgerEntryRecord } | { ok: false };

/** Keys: the tenant id length-prefixed, so no tenant id can make another tenant's key. */
const scoped = (tenantId: string, ...parts: (string | number)[]): string => `${tenantId.length}:${tenantId}/${parts.join('/')}`;
export const leafKey = (tenantId: string, index: number) => scoped(tenantId, index);
export const entryLeafKey = (tenantId: string, entryId: string) => scoped(tenantId, entryId);
export const nodeKey = (tenantId: string, level: number, index: number) => scoped(tenantId, level, index);
export const checkpointKey = (tenantId: string, seq: number) => scoped(tenantId, seq);
export const checkpointSizeKey = (tenantId: string, treeSize: number) => scoped(tenantId, treeSize);

export type LeaseJob = 'seal' | 'verify';
const leaseKey = (tenantId: string, job: LeaseJob) => (job === 'seal' ? scoped(tenantId) : scoped(tenantId, job));

/** Point reads issued at once. */
const READ_BATCH = 64;
/**
 * An entry's fields as read back (the record, without the store-only plan copy of a
 * PLAN_CREATED entry): the embedded store then decodes only these of each document.
 */
const ENTRY_PROJECTION: Readonly<Record<string, 1>> = Object.fromEntries(['_id', ...Object.keys(LedgerEntryRecordSchema.shape)].map((f) => [f, 1]));
/**
 * Tree nodes from this level up are kept in memory once read: every proof shares the upper
 * levels, and a stored node never changes (a node edited in the database does not reach a
 * proof through the cache, which is all the better: proofs are checked against the signed root).
 */
const CACHED_FROM_LEVEL = 5;
const MAX_CACHED_NODES = 100_000;
/** Tenants whose latest checkpoint seq is remembered. */
const MAX_TENANTS_SEEN = 10_000;

export interface LedgerLogStoreOptions {
  logger?: StoreLogger;
}

export class LedgerLogStore {
  private readonly leaves: Collection<LeafDoc>;
  private readonly entryLeaves: Collection<EntryLeafDoc>;
  private readonly nodes: Collection<NodeDoc>;
  private readonly checkpoints: Collection<CheckpointDoc>;
  private readonly checkpointSizes: Collection<CheckpointSizeDoc>;
  private readonly leases: Collection<LeaseDoc>;
  private readonly verifiedPrefixes: Collection<VerifiedPrefixDoc>;
  private readonly entries: Collection<{ _id: string } & Record<string, unknown>>;
  private readonly logger: StoreLogger;
  /** The latest checkpoint seq seen per tenant: where probing starts (a hint, always re-read). */
  private readonly latestSeen = new LRUCache<string, number>({ max: MAX_TENANTS_SEEN });
  /** Upper tree nodes by tenant/level/index (see CACHED_FROM_LEVEL), least recently used first. */
  private readonly nodeCache = new LRUCache<string, string>({ max: MAX_CACHED_NODES });
  /** Full tiles of the tree (LedgerTiles.ts): most of a proof's nodes in a document or two. */
  private readonly tiles: LedgerTiles;

  constructor(db: Db, options: LedgerLogStoreOptions = {}) {
    this.leaves = db.collection(LEDGER_LOG_COLLECTIONS.leaves);
    this.entryLeaves = db.collection(LEDGER_LOG_COLLECTIONS.entryLeaves);
    this.nodes = db.collection(LEDGER_LOG_COLLECTIONS.nodes);
    this.checkpoints = db.collection(LEDGER_LOG_COLLECTIONS.checkpoints);
    this.checkpointSizes = db.collection(LEDGER_LOG_COLLECTIONS.checkpointSizes);
    this.leases = db.collection(LEDGER_LOG_COLLECTIONS.leases);
    this.verifiedPrefixes = db.collection(LEDGER_LOG_COLLECTIONS.verifiedPrefixes);
    this.tiles = new LedgerTiles(db.collection(LEDGER_LOG_COLLECTIONS.tiles), nodeKey);
    this.entries = db.collection(PLAN_LEDGER_COLLECTION);
    this.logger = options.logger ?? consoleStoreLogger;
  }

  /** Documents by _id within the tenant, a batch per query; null where absent. */
  private async byIds<T extends { _id: string; tenant_id: string }>(collection: Collection<T>, tenantId: string, ids: readonly string[], projection?: Readonly<Record<string, 1>>): Promise<(T | null)[]> {
    const options = projection ? { projection } : {};
    const out: (T | null)[] = [];
    for (let i = 0; i < ids.length; i += READ_BATCH) {
      const batch = ids.slice(i, i + READ_BATCH);
      if (batch.length > 1) {
        const docs = (await collection.find({ tenant_id: tenantId, _id: { $in: batch } } as never, options).toArray()) as unknown as T[];
        const byId = new Map(docs.map((d) => [d._id, d]));
        out.push(...batch.map((id) => byId.get(id) ?? null));
        continue;
      }
      out.push((await collection.findOne({ tenant_id: tenantId, _id: batch[0] } as never, options)) as T | null);
    }
    return out;
  }

  // --- leaves -------------------------------------------------------------------------------

  async readLeaves(tenantId: string, indexes: readonly number[]): Promise<(LeafDoc | null)[]> {
    return withStoreErrors(this.logger, 'ledgerLog.readLeaves', async () => {
      const docs = await this.byIds(this.leaves, tenantId, indexes.map((i) => leafKey(tenantId, i)));
      return docs.map((d, i) => (d && d.index === indexes[i] ? d : null));
    });
  }

  /** The number of consecutive leaves from 0, probing from `known` (a size believed reached): O(log n) point reads. */
  async logSize(tenantId: string, known = 0): Promise<number> {
    return withStoreErrors(this.logger, 'ledgerLog.logSize', async () => {
      const has = async (size: number) => size === 0 || (await this.readLeaves(tenantId, [size - 1]))[0] !== null;
      let lo = known > 0 && (await has(known)) ? known : 0;
      let step = 1;
      let hi = lo + step;
      while (await has(hi)) {
        lo = hi;
        step *= 2;
        hi = lo + step;
      }
      // lo is present, hi is not: bisect.
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (await has(mid)) lo = mid;
        else hi = mid;
      }
      return lo;
    });
  }

  /**
   * Inserts leaves at start, start + 1, … in order, stopping at the first that cannot go in.
   * `conflict`: 'index' when that position is taken (another sealer got there first: the
   * caller's view of the log is stale), 'entry' when that entry is sealed already (at a
   * position before start). `inserted` leaves went in either way.
   */
  async insertLeaves(tenantId: string, start: number, leaves: readonly NewLeaf[]): Promise<{ inserted: number; conflict: 'index' | 'entry' | null }> {
    if (leaves.length === 0) return { inserted: 0, conflict: null };
    return withStoreErrors(this.logger, 'ledgerLog.insertLeaves', async () => {
      const docs: LeafDoc[] = leaves.map((leaf, i) => ({ _id: leafKey(tenantId, start + i), tenant_id: tenantId, index: start + i, ...leaf }));
      try {
        await this.leaves.insertMany(docs, { ordered: true });
        return { inserted: docs.length, conflict: null };
      } catch (e) {
        const first = bulkWriteFailure(e, docs.length)?.errors[0];
        if (!first || !isDuplicateKeyError(first)) throw e;
        const inserted = first.index;
        // FerretDB does not say which unique index refused it: a leaf at that position means
        // the position was taken; none means the entry is sealed elsewhere.
        const [taken] = await this.readLeaves(tenantId, [start + inserted]);
        return { inserted, conflict: taken ? 'index' : 'entry' };
      }
    });
  }

  // --- entry -> leaf index ------------------------------------------------------------------

  async leafIndexesOf(tenantId: string, entryIds: readonly string[]): Promise<(number | null)[]> {
    return (await this.leafRefsOf(tenantId, entryIds)).map((r) => r?.index ?? null);
  }

  /** Where each entry is sealed: its leaf index and (when recorded) the entry's _id; null when not sealed. */
  async leafRefsOf(tenantId: string, entryIds: readonly string[]): Promise<({ index: number; entryKey: string | null } | null)[]> {
    return withStoreErrors(this.logger, 'ledgerLog.leafIndexesOf', async () => {
      const docs = await this.byIds(this.entryLeaves, tenantId, entryIds.map((id) => entryLeafKey(tenantId, id)));
      return docs.map((d, i) => (d && d.entry_id === entryIds[i] && Number.isSafeInteger(d.index) ? { index: d.index, entryKey: typeof d.entry_key === 'string' ? d.entry_key : null } : null));
    });
  }

  /** Records which leaf seals which entry (idempotent: a lookup already there is kept). */
  async insertEntryLeaves(tenantId: string, pairs: readonly { entry_id: string; index: number; entry_key?: string }[]): Promise<void> {
    await this.insertAllowingDuplicates(
      this.entryLeaves,
      'ledgerLog.insertEntryLeaves',
      pairs.map(({ entry_id, index, entry_key }) => ({ _id: entryLeafKey(tenantId, entry_id), tenant_id: tenantId, entry_id, index, ...(entry_key ? { entry_key } : {}) })),
    );
  }

  // --- tree nodes ---------------------------------------------------------------------------

  /**
   * Hashes (hex) of perfect subtrees; level 0 comes from the leaves. Missing ones are absent
   * from the map. With `treeSize` (a size the log has reached), nodes inside full tiles of
   * that tree come from the tiles.
   */
  async readNodes(tenantId: string, ids: readonly NodeId[], treeSize = 0): Promise<Map<string, string>> {
    return withStoreErrors(this.logger, 'ledgerLog.readTiles', () => this.tiles.read(tenantId, ids, treeSize, (rest) => this.readNodeDocs(tenantId, rest)));
  }

  private async readNodeDocs(tenantId: string, ids: readonly NodeId[]): Promise<Map<string, string>> {
    return withStoreErrors(this.logger, 'ledgerLog.readNodes', async () => {
      const out = new Map<string, string>();
      const unique = [...new Map(ids.map((id) => [`${id.level}/${id.index}`, id])).values()].filter((id) => {
        const cached = id.level >= CACHED_FROM_LEVEL ? this.nodeCache.get(nodeKey(tenantId, id.level, id.index)) : undefined;
        if (cached === undefined) return true;
        out.set(`${id.level}/${id.index}`, cached);
        return false;
      });
      const leafIds = unique.filter((id) => id.level === 0);
      const innerIds = unique.filter((id) => id.level > 0);
      const [leaves, inner] = await Promise.all([
        this.byIds(this.leaves, tenantId, leafIds.map((id) => leafKey(tenantId, id.index))),
        this.byIds(this.nodes, tenantId, innerIds.map((id) => nodeKey(tenantId, id.level, id.index))),
      ]);
      leafIds.forEach((id, i) => {
        const leaf = leaves[i];
        if (leaf && leaf.index === id.index && typeof leaf.leaf_hash === 'string') out.set(`0/${id.index}`, leaf.leaf_hash);
      });
      innerIds.forEach((id, i) => {
        const node = inner[i];
        if (node && node.level === id.level && node.index === id.index && typeof node.hash === 'string') {
          out.set(`${id.level}/${id.index}`, node.hash);
          if (id.level >= CACHED_FROM_LEVEL) this.nodeCache.set(nodeKey(tenantId, id.level, id.index), node.hash);
        }
      });
      return out;
    });
  }


  /** Stores perfect subtrees above the leaves, then the tiles they fill (idempotent: their hashes follow from the leaves). */
  async insertNodes(tenantId: string, nodes: readonly { id: NodeId; hash: string }[]): Promise<void> {
    await this.insertNodeDocs(tenantId, nodes);
    const tiles = await withStoreErrors(this.logger, 'ledgerLog.readTileNodes', () => this.tiles.filledBy(tenantId, nodes, (ids) => this.readNodeDocs(tenantId, ids)));
    await this.insertAllowingDuplicates(this.tiles.collection, 'ledgerLog.insertTiles', tiles);
  }

  private async insertNodeDocs(tenantId: string, nodes: readonly { id: NodeId; hash: string }[]): Promise<void> {
    await this.insertAllowingDuplicates(
      this.nodes,
      'ledgerLog.insertNodes',
      nodes
        .filter((n) => n.id.level > 0)
        .map(({ id, hash }) => ({ _id: nodeKey(tenantId, id.level, id.index), tenant_id: tenantId, level: id.level, index: id.index, hash })),
    );
  }

  // --- checkpoints --------------------------------------------------------------------------

  async checkpointBySeq(tenantId: string, seq: number): Promise<CheckpointDoc | null> {
    return withStoreErrors(this.logger, 'ledgerLog.checkpoint', async () => {
      const [doc] = await this.byIds(this.checkpoints, tenantId, [checkpointKey(tenantId, seq)]);
      return doc && doc.seq === seq ? doc : null;
    });
  }

  /**
   * The checkpoint with the highest seq, probing from `knownSeq` (default: the latest this
   * instance saw): one round trip of two point reads when nothing or one checkpoint came
   * since, O(log n) point reads otherwise.
   */
  async latestCheckpoint(tenantId: string, knownSeq = this.latestSeen.get(tenantId) ?? 0): Promise<CheckpointDoc | null> {
    const found = await this.probeLatestCheckpoint(tenantId, knownSeq);
    if (found) this.latestSeen.set(tenantId, found.seq);
    return found;
  }

  private async probeLatestCheckpoint(tenantId: string, knownSeq: number): Promise<CheckpointDoc | null> {
    if (knownSeq > 0) {
      const [at, next] = await Promise.all([this.checkpointBySeq(tenantId, knownSeq), this.checkpointBySeq(tenantId, knownSeq + 1)]);
      if (at && !next) return at;
    }
    let lo = 0;
    let loDoc: CheckpointDoc | null = null;
    if (knownSeq > 0) {
      loDoc = await this.checkpointBySeq(tenantId, knownSeq);
      if (loDoc) lo = knownSeq;
    }
    let step = 1;
    let hi = lo + step;
    let hiDoc = await this.checkpointBySeq(tenantId, hi);
    while (hiDoc) {
      lo = hi;
      loDoc = hiDoc;
      step *= 2;
      hi = lo + step;
      hiDoc = await this.checkpointBySeq(tenantId, hi);
    }
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      const doc = await this.checkpointBySeq(tenantId, mid);
      if (doc) {
        lo = mid;
        loDoc = doc;
      } else hi = mid;
    }
    return loDoc;
  }

  /**
   * The checkpoint of that size: through its size record (a point read by _id), or, where the
   * record is missing (a sealer died between the checkpoint's two inserts; ensureCheckpointSize
   * repairs it), through the checkpoints' {tenant_id, tree_size} index.
   */
  async checkpointBySize(tenantId: string, treeSize: number): Promise<CheckpointDoc | null> {
    return withStoreErrors(this.logger, 'ledgerLog.checkpointBySize', async () => {
      const [ref] = await this.byIds(this.checkpointSizes, tenantId, [checkpointSizeKey(tenantId, treeSize)]);
      if (!ref || ref.tree_size !== treeSize || !Number.isSafeInteger(ref.seq)) {
        const doc = await this.checkpoints.findOne({ tenant_id: tenantId, tree_size: treeSize });
        return doc && doc.tree_size === treeSize ? doc : null;
      }
      const doc = await this.checkpointBySeq(tenantId, ref.seq);
      return doc && doc.tree_size === treeSize ? doc : null;
    });
  }

  /** Writes the size record of a stored checkpoint when it is missing (idempotent). */
  async ensureCheckpointSize(doc: Pick<CheckpointDoc, 'tenant_id' | 'tree_size' | 'seq'>): Promise<void> {
    await this.insertAllowingDuplicates(this.checkpointSizes, 'ledgerLog.insertCheckpointSize', [
      { _id: checkpointSizeKey(doc.tenant_id, doc.tree_size), tenant_id: doc.tenant_id, tree_size: doc.tree_size, seq: doc.seq },
    ]);
  }

  /** Inserts checkpoint `seq`; false when that seq or that tree size is taken already. */
  async insertCheckpoint(doc: Omit<CheckpointDoc, '_id'>): Promise<boolean> {
    return withStoreErrors(this.logger, 'ledgerLog.insertCheckpoint', async () => {
      try {
        await this.checkpoints.insertOne({ _id: checkpointKey(doc.tenant_id, doc.seq), ...doc });
        this.latestSeen.set(doc.tenant_id, doc.seq);
      } catch (e) {
        if (isDuplicateKeyError(e)) return false;
        throw e;
      }
      await this.ensureCheckpointSize(doc);
      return true;
    });
  }

  /** Every checkpoint of a tenant, oldest first (export; not a hot path). */
  async allCheckpoints(tenantId: string): Promise<CheckpointDoc[]> {
    return withStoreErrors(this.logger, 'ledgerLog.allCheckpoints', async () => {
      const docs = await this.checkpoints.find({ tenant_id: tenantId }).toArray();
      return docs.sort((a, b) => a.seq - b.seq);
    });
  }

  // --- verification progress ---------------------------------------------------------------

  async verifiedPrefix(tenantId: string): Promise<VerifiedPrefixDoc | null> {
    return withStoreErrors(this.logger, 'ledgerLog.verifiedPrefix', async () => {
      const [doc] = await this.byIds(this.verifiedPrefixes, tenantId, [scoped(tenantId)]);
      return doc ?? null;
    });
  }

  /** Records a verified prefix unless a larger one is recorded already (verifiers race harmlessly). */
  async recordVerifiedPrefix(tenantId: string, prefix: Pick<VerifiedPrefixDoc, 'tree_size' | 'root_hash' | 'frontier' | 'signature' | 'key_id'>): Promise<void> {
    await withStoreErrors(this.logger, 'ledgerLog.recordVerifiedPrefix', async () => {
      const doc: VerifiedPrefixDoc = { _id: scoped(tenantId), tenant_id: tenantId, ...prefix, verified_at: new Date() };
      try {
        await this.verifiedPrefixes.insertOne(doc);
      } catch (e) {
        if (!isDuplicateKeyError(e)) throw e;
        const { _id, ...fields } = doc;
        // The whole prefix matched: a mismatch recorded below it is gone (the background verifier finds one beyond it again).
        await this.verifiedPrefixes.updateOne({ _id, tenant_id: tenantId, tree_size: { $lt: prefix.tree_size } }, { $set: fields, $unset: { mismatch_tree_size: '' } });
      }
    });
  }

  /** Records that the leaves up to a checkpoint beyond the verified prefix did not match it (kept until a larger prefix is recorded). */
  async recordVerifyMismatch(tenantId: string, treeSize: number): Promise<void> {
    await withStoreErrors(this.logger, 'ledgerLog.recordVerifyMismatch', async () => {
      const _id = scoped(tenantId);
      try {
        await this.verifiedPrefixes.insertOne({ _id, tenant_id: tenantId, tree_size: 0, root_hash: '', frontier: [], signature: '', key_id: '', verified_at: new Date(0), mismatch_tree_size: treeSize });
      } catch (e) {
        if (!isDuplicateKeyError(e)) throw e;
        await this.verifiedPrefixes.updateOne({ _id, tenant_id: tenantId, tree_size: { $lt: treeSize } }, { $set: { mismatch_tree_size: treeSize } });
      }
    });
  }

  /**
   * The next checkpoint to verify after a verified prefix of size `after`: the largest one of
   * size at most `upTo`, or else the smallest one beyond `after`; null when none is beyond it.
   */
  async checkpointToVerify(tenantId: string, after: number, upTo: number): Promise<CheckpointDoc | null> {
    return withStoreErrors(this.logger, 'ledgerLog.checkpointToVerify', async () => {
      const [within] = await this.checkpoints.find({ tenant_id: tenantId, tree_size: { $gt: after, $lte: upTo } }).sort({ tree_size: -1 }).limit(1).toArray();
      if (within) return within;
      const [next] = await this.checkpoints.find({ tenant_id: tenantId, tree_size: { $gt: after } }).sort({ tree_size: 1 }).limit(1).toArray();
      return next ?? null;
    });
  }

  /** Every tenant that has a checkpoint (the background verifier's start-up and periodic look). */
  async tenantsWithCheckpoints(): Promise<string[]> {
    return withStoreErrors(this.logger, 'ledgerLog.tenantsWithCheckpoints', async () => {
      const ids = await this.checkpoints.distinct('tenant_id');
      return ids.filter((id): id is string => typeof id === 'string');
    });
  }

  // --- leases: the sealer's and the background verifier's, per tenant ---------------------------

  /**
   * Takes or renews the tenant's lease for `job` (sealing by default) for `holder` until now +
   * ttl; false while another holder's lease runs. Not part of the log: the log's correctness
   * rests on its unique keys (and the verified prefix on its only-raising update), the lease
   * only keeps instances from wasting work on each other.
   */
  async acquireLease(tenantId: string, holder: string, now: Date, ttlMs: number, job: LeaseJob = 'seal'): Promise<boolean> {
    return withStoreErrors(this.logger, 'ledgerLog.lease', () => acquireLease(this.leases, leaseKey(tenantId, job), holder, now, ttlMs, { tenant_id: tenantId }));
  }

  async releaseLease(tenantId: string, holder: string, job: LeaseJob = 'seal'): Promise<void> {
    await withStoreErrors(this.logger, 'ledgerLog.releaseLease', () => releaseLease(this.leases, leaseKey(tenantId, job), holder));
  }

  // --- the ledger, read-only ----------------------------------------------------------------

  /** Entries by their _id (position key), parsed; null where absent or another tenant's. */
  async readEntries(tenantId: string, keys: readonly string[]): Promise<(StoredEntry | null)[]> {
    return withStoreErrors(this.logger, 'ledgerLog.readEntries', async () => {
      const docs = await this.byIds(this.entries as unknown as Collection<{ _id: string; tenant_id: string }>, tenantId, keys, ENTRY_PROJECTION);
      return docs.map((d) => (d ? parseEntry(d as unknown as Record<string, unknown>) : null));
    });
  }

  /**
   * Every entry of a tenant, streamed in no particular order, without the store-only plan
   * copy. One query: a scan on FerretDB, the tenant's index range on MongoDB.
   */
  async *streamEntries(tenantId: string, filter: { since?: Date } = {}): AsyncGenerator<{ key: string; entry: StoredEntry }> {
    const query: Record<string, unknown> = { tenant_id: tenantId };
    if (filter.since) query.timestamp = { $gte: filter.since };
    const cursor = this.entries.find(query, { projection: ENTRY_PROJECTION, batchSize: 1000 });
    try {
      for await (const doc of cursor) yield { key: doc._id, entry: parseEntry(doc) };
    } finally {
      await cursor.close();
    }
  }

  /** Every leaf of a tenant, streamed in no particular order (one query). */
  async *streamLeaves(tenantId: string): AsyncGenerator<LeafDoc> {
    const cursor = this.leaves.find({ tenant_id: tenantId }, { batchSize: 1000 });
    try {
      for await (const doc of cursor) yield doc;
    } finally {
      await cursor.close();
    }
  }

  /** Entries per tenant (one aggregation over the ledger; at start and for reconciliation). */
  async entryCounts(tenantId?: string): Promise<Map<string, number>> {
    return withStoreErrors(this.logger, 'ledgerLog.entryCounts', async () => {
      const rows = await this.entries
        .aggregate<{ _id: unknown; count: unknown }>([...(tenantId === undefined ? [] : [{ $match: { tenant_id: tenantId } }]), { $group: { _id: '$tenant_id', count: { $sum: 1 } } }])
        .toArray();
      return new Map(rows.filter((r) => typeof r._id === 'string').map((r) => [r._id as string, Number(r.count)]));
    });
  }

  private async insertAllowingDuplicates<T extends { _id: string }>(collection: Collection<T>, op: string, docs: T[]): Promise<void> {
    await withStoreErrors(this.logger, op, () => insertAllowingDuplicates(collection, docs as OptionalUnlessRequiredId<T>[]));
  }
}

function parseEntry(doc: Record<string, unknown>): StoredEntry {
  const parsed = LedgerEntryRecordSchema.safeParse({ ...doc, entry_id: doc.entry_id ?? doc._id });
  return parsed.success ? { ok: true, record: parsed.data } : { ok: false };
}
