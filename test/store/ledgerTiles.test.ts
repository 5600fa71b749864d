import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { TILE_WIDTH } from '../../src/domain/merkleTiles.js';
import { appendLeaves, consistencyProofRanges, inclusionProofRanges, leafHash, rootOfLeaves, toHex, verifyConsistency, verifyInclusion, type Hash } from '../../src/domain/merkleTree.js';
import { rangeHashes } from '../../src/services/ledgerLog/nodeReads.js';
import { ensureIndexes } from '../../src/store/indexes.js';
import { LEDGER_LOG_COLLECTIONS } from '../../src/store/ledgerLog/ledgerLogIndexes.js';
import { LedgerLogStore, nodeKey } from '../../src/store/ledgerLog/LedgerLogStore.js';
import { openTestDb, type TestDb } from '../support/testDb.js';
import { memoryLogger } from './storeFixtures.js';

// The tiles of the Merkle log (src/store/ledgerLog/LedgerTiles.ts) on the real store: written
// with the nodes as the sealer writes them, read by other store instances, never used for a
// subtree that is not complete, and replaced by the node documents wherever one is missing.

const leafOf = (tenant: string, i: number): Hash => leafHash(new Uint8Array(createHash('sha256').update(`${tenant} ${i}`).digest()));

describe('tiles of the ledger log', () => {
  let t: TestDb;
  const store = () => new LedgerLogStore(t.db, { logger: memoryLogger() });
  const tiles = () => t.db.collection(LEDGER_LOG_COLLECTIONS.tiles);

  beforeAll(async () => {
    t = await openTestDb('tiles');
    await ensureIndexes(t.db);
  });
  afterAll(async () => {
    await t.close();
  });

  /** Appends leaves from..to as the sealer does (leaves, then the nodes they complete), in uneven batches. */
  async function grow(s: LedgerLogStore, tenant: string, state: { size: number; frontier: Hash[] }, to: number, batches = [1, 7, 50, 333]) {
    let k = 0;
    while (state.size < to) {
      const n = Math.min(batches[k++ % batches.length] as number, to - state.size);
      const hashes = Array.from({ length: n }, (_, i) => leafOf(tenant, state.size + i));
      const { inserted } = await s.insertLeaves(tenant, state.size, hashes.map((h, i) => ({ entry_id: `e${state.size + i}`, entry_key: `k${state.size + i}`, leaf_hash: toHex(h) })));
      expect(inserted).toBe(n);
      const next = appendLeaves(state.size, state.frontier, hashes);
      await s.insertNodes(tenant, next.completed.map((c) => ({ id: c.id, hash: toHex(c.hash) })));
      state.size = next.size;
      state.frontier = next.frontier;
    }
  }

  const leavesTo = (tenant: string, n: number) => Array.from({ length: n }, (_, i) => leafOf(tenant, i));

  async function expectProofsHold(s: LedgerLogStore, tenant: string, size: number, indexes: number[]) {
    const root = rootOfLeaves(leavesTo(tenant, size));
    for (const m of indexes.filter((i) => i < size)) {
      const path = await rangeHashes(s, tenant, inclusionProofRanges(m, size));
      expect([m, size, path !== null && verifyInclusion(m, size, leafOf(tenant, m), path, root)]).toEqual([m, size, true]);
    }
  }

  it('writes one tile per full tile, with the hashes of its nodes; other store instances prove from them and agree', async () => {
    const tenant = 'tiles-a';
    const writer = store();
    const size = 2 * TILE_WIDTH * TILE_WIDTH + 45;
    await grow(writer, tenant, { size: 0, frontier: [] }, size);
    const docs = await tiles().find({ tenant_id: tenant }).toArray();
    const fullAt = (level: number) => Math.floor(size / TILE_WIDTH ** (level + 1));
    expect(docs.filter((d) => d.level === 0)).toHaveLength(fullAt(0));
    expect(docs.filter((d) => d.level === 1)).toHaveLength(fullAt(1));
    expect(docs).toHaveLength(fullAt(0) + fullAt(1));
    const tile = docs.find((d) => d.level === 0 && d.index === 3);
    expect(tile?.hashes).toBe(leavesTo(tenant, 4 * TILE_WIDTH).slice(3 * TILE_WIDTH).map(toHex).join(''));
    expect(tile?._id).toBe(nodeKey(tenant, 0, 3));

    const sample = [0, 1, 31, 32, 33, 100, 1023, 1024, 1500, 2047, 2048, 2070, size - 1];
    const [a, b] = [store(), store()];
    for (const s of [31, 32, 33, 1024, 1100, size]) {
      await expectProofsHold(a, tenant, s, sample);
      await expectProofsHold(b, tenant, s, sample);
      const old = rootOfLeaves(leavesTo(tenant, 20));
      const proof = await rangeHashes(b, tenant, consistencyProofRanges(20, s));
      expect(proof !== null && verifyConsistency(20, s, old, rootOfLeaves(leavesTo(tenant, s)), proof)).toBe(true);
    }
  });

  it('serves a full tile without the node documents it replaces', async () => {
    const tenant = 'tiles-b';
    const size = TILE_WIDTH * TILE_WIDTH + 10;
    await grow(store(), tenant, { size: 0, frontier: [] }, size);
    // Take away every stored hash that the full tiles hold (the first 1024 leaves' and their nodes' below level 10).
    const held = Array.from({ length: 9 }, (_, l) => Array.from({ length: (TILE_WIDTH * TILE_WIDTH) / 2 ** (l + 1) }, (_, i) => nodeKey(tenant, l + 1, i))).flat();
    await t.db.collection(LEDGER_LOG_COLLECTIONS.nodes).deleteMany({ _id: { $in: held } } as never);
    await t.db.collection(LEDGER_LOG_COLLECTIONS.leaves).updateMany({ tenant_id: tenant, index: { $lt: TILE_WIDTH * TILE_WIDTH } }, { $set: { leaf_hash: '00'.repeat(32) } });
    const warm = store();
    await expectProofsHold(warm, tenant, size, [0, 5, 500, 1023, 1024, size - 1]);
    // Without the tiles, those hashes are gone; a store that read the tiles keeps them (a full tile never changes).
    await tiles().deleteMany({ tenant_id: tenant });
    expect(await rangeHashes(store(), tenant, inclusionProofRanges(0, size))).toBeNull();
    await expectProofsHold(warm, tenant, size, [0, 5, 500, 1023]);
  });

  it('never serves a tile, cached or stored, for a subtree the tree does not have complete yet', async () => {
    const tenant = 'tiles-c';
    const writer = store();
    const reader = store();
    const state = { size: 0, frontier: [] as Hash[] };
    await grow(writer, tenant, state, 40);
    // A forged "tile" where the tree has 8 of its 32 leaves, and one far above the tree: neither is read.
    const forged = { tenant_id: tenant, hashes: 'ab'.repeat(32 * TILE_WIDTH) };
    await tiles().insertMany([
      { _id: nodeKey(tenant, 0, 1), level: 0, index: 1, ...forged },
      { _id: nodeKey(tenant, 1, 0), level: 1, index: 0, ...forged },
    ] as never[]);
    await expectProofsHold(reader, tenant, 40, [0, 31, 32, 39]);
    // The tree grows; the reader, with what it cached before, proves at both sizes.
    await t.db.collection(LEDGER_LOG_COLLECTIONS.tiles).deleteMany({ tenant_id: tenant, index: 1, level: 0 });
    await grow(writer, tenant, state, TILE_WIDTH * 3 + 1);
    await expectProofsHold(reader, tenant, TILE_WIDTH * 3 + 1, [0, 31, 32, 39, 63, 64, 96]);
    await expectProofsHold(reader, tenant, 40, [0, 31, 32, 39]);
    expect((await tiles().findOne({ _id: nodeKey(tenant, 0, 1) } as never))?.hashes).toBe(leavesTo(tenant, 64).slice(32).map(toHex).join(''));
  });

  it('falls back to the node documents where a tile is missing or unreadable', async () => {
    const tenant = 'tiles-d';
    const size = TILE_WIDTH * TILE_WIDTH + TILE_WIDTH;
    await grow(store(), tenant, { size: 0, frontier: [] }, size);
    await tiles().deleteMany({ tenant_id: tenant, level: 0, index: { $lt: 10 } });
    await tiles().updateMany({ tenant_id: tenant, level: 0, index: { $gte: 10, $lt: 20 } }, { $set: { hashes: 'not hex' } });
    await tiles().updateMany({ tenant_id: tenant, level: 0, index: { $gte: 20 } }, { $set: { hashes: 'zz'.repeat(32 * TILE_WIDTH) } });
    await tiles().updateMany({ tenant_id: tenant, level: 1 }, { $set: { tenant_id: 'someone else' } });
    await expectProofsHold(store(), tenant, size, [0, 100, 330, 700, 1023, 1024, size - 1]);
  });
});
