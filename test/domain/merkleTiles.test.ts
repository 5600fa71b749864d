import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { hashFromTile, tileFull, tileNodes, tilesFilledBy, tileSpan, TILE_HEIGHT, TILE_WIDTH } from '../../src/domain/merkleTiles.js';
import { appendLeaves, combineCover, leafHash, rangeCover, toHex, type Hash, type NodeId } from '../../src/domain/merkleTree.js';

const leaves = Array.from({ length: 3 * TILE_WIDTH * TILE_WIDTH + 7 }, (_, i) => leafHash(new Uint8Array(createHash('sha256').update(`leaf ${i}`).digest())));
/** Every perfect subtree of the tree, by "level/index", as the sealer completes them. */
const nodes = new Map(appendLeaves(0, [], leaves).completed.map((c) => [`${c.id.level}/${c.id.index}`, c.hash]));
const hashOf = (id: NodeId) => nodes.get(`${id.level}/${id.index}`) as Hash;

describe('tiles of the Merkle tree', () => {
  it('a tile holds 2^H consecutive hashes of one level, H levels apart', () => {
    expect(TILE_WIDTH).toBe(2 ** TILE_HEIGHT);
    expect(tileNodes({ level: 0, index: 2 })).toEqual(Array.from({ length: TILE_WIDTH }, (_, k) => ({ level: 0, index: 2 * TILE_WIDTH + k })));
    expect(tileNodes({ level: 1, index: 0 })[3]).toEqual({ level: TILE_HEIGHT, index: 3 });
  });

  it('every perfect subtree of a full tile is computed from that tile alone, equal to its own hash', () => {
    const size = leaves.length;
    let checked = 0;
    for (const [key, hash] of nodes) {
      const [level, index] = key.split('/').map(Number) as [number, number];
      const { tile, from, count } = tileSpan({ level, index });
      expect(tile.level).toBe(Math.floor(level / TILE_HEIGHT));
      if (!tileFull(tile, size)) continue;
      const tileHashes = tileNodes(tile).map(hashOf);
      expect(tileHashes.every((h) => h !== undefined)).toBe(true);
      expect(toHex(hashFromTile(tileHashes, from, count))).toBe(toHex(hash));
      checked += 1;
    }
    expect(checked).toBeGreaterThan(leaves.length);
  });

  it('a tile is full exactly when the subtree above its hashes is complete', () => {
    for (const size of [0, 1, TILE_WIDTH - 1, TILE_WIDTH, TILE_WIDTH + 1, TILE_WIDTH ** 2 - 1, TILE_WIDTH ** 2]) {
      for (let level = 0; level < 3; level++) {
        for (let index = 0; index < 3; index++) {
          const covered = (index + 1) * 2 ** ((level + 1) * TILE_HEIGHT);
          // The tile's root node (level (t+1)·H) is in the tree's cover of [0, size) or below it.
          const rootComplete = rangeCover({ lo: 0, hi: size }).some((n) => n.level >= (level + 1) * TILE_HEIGHT && (n.index + 1) * 2 ** n.level >= covered);
          expect([size, level, index, tileFull({ level, index }, size)]).toEqual([size, level, index, rootComplete]);
        }
      }
    }
  });

  it('nodes at positive multiples of H fill the tile below them; other nodes fill none', () => {
    const grown = appendLeaves(0, [], leaves.slice(0, TILE_WIDTH * 2)).completed.map((c) => c.id);
    expect(tilesFilledBy(grown)).toEqual([
      { level: 0, index: 0 },
      { level: 0, index: 1 },
    ]);
    expect(tilesFilledBy([{ level: 2 * TILE_HEIGHT, index: 4 }, { level: 0, index: 9 }, { level: 3, index: 1 }])).toEqual([{ level: 1, index: 4 }]);
  });

  it('a root of the whole tree from tiles matches the tree root where the tree is one full tile', () => {
    const one = leaves.slice(0, TILE_WIDTH);
    expect(toHex(hashFromTile(one, 0, TILE_WIDTH))).toBe(toHex(combineCover(appendLeaves(0, [], one).frontier)));
  });

  it('refuses a run that is no subtree of the tile', () => {
    const tile = leaves.slice(0, TILE_WIDTH);
    expect(() => hashFromTile(tile, 0, 3)).toThrow(/no subtree of 3 hashes/);
    expect(() => hashFromTile(tile, 2, 4)).toThrow(/at 2/);
    expect(() => hashFromTile(tile.slice(0, 8), 0, 16)).toThrow(/tile of 8/);
  });
});
