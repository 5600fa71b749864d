import { nodeHash, type Hash, type NodeId } from './merkleTree.js';

// Tiles of the Merkle log (in the manner of RFC 9162 logs' tlog tiles): tile (t, i) holds the
// 2^TILE_HEIGHT hashes of tree level t·TILE_HEIGHT at indexes i·2^H … (i+1)·2^H − 1, so the
// hash of every perfect subtree at levels t·H … t·H + H − 1 above them follows from one tile.
// Only full tiles are kept: a full tile never changes, so any copy of it is valid forever.
// A proof's nodes then come from about one tile per H levels instead of one document a node.

export const TILE_HEIGHT = 5;
export const TILE_WIDTH = 2 ** TILE_HEIGHT;

export interface TileId {
  level: number;
  index: number;
}

/** Where a perfect subtree's hash is found: the tile, and the run of its hashes the subtree spans (a power of two). */
export function tileSpan(node: NodeId): { tile: TileId; from: number; count: number } {
  const level = Math.floor(node.level / TILE_HEIGHT);
  const count = 2 ** (node.level - level * TILE_HEIGHT);
  const first = node.index * count;
  return { tile: { level, index: Math.floor(first / TILE_WIDTH) }, from: first % TILE_WIDTH, count };
}

/** Whether the tile is full in a tree of `size` leaves (the subtree above its hashes is complete). */
export const tileFull = (tile: TileId, size: number): boolean => (tile.index + 1) * 2 ** ((tile.level + 1) * TILE_HEIGHT) <= size;

/** The nodes whose hashes a tile holds, in order. */
export function tileNodes(tile: TileId): NodeId[] {
  return Array.from({ length: TILE_WIDTH }, (_, k) => ({ level: tile.level * TILE_HEIGHT, index: tile.index * TILE_WIDTH + k }));
}

/** The tiles that these newly completed nodes fill: one for each node at a positive multiple of H. */
export function tilesFilledBy(nodes: readonly NodeId[]): TileId[] {
  return nodes.filter((n) => n.level > 0 && n.level % TILE_HEIGHT === 0).map((n) => ({ level: n.level / TILE_HEIGHT - 1, index: n.index }));
}

/** The hash of the subtree over `count` consecutive tile hashes from `from` (count a power of two). */
export function hashFromTile(hashes: readonly Hash[], from: number, count: number): Hash {
  if (!Number.isInteger(Math.log2(count)) || from % count !== 0 || from + count > hashes.length) throw new Error(`no subtree of ${count} hashes at ${from} in a tile of ${hashes.length}`);
  let row = hashes.slice(from, from + count);
  while (row.length > 1) row = Array.from({ length: row.length / 2 }, (_, k) => nodeHash(row[2 * k] as Hash, row[2 * k + 1] as Hash));
  return row[0] as Hash;
}
