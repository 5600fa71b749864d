import type { Collection } from 'mongodb';
import { LRUCache } from 'lru-cache';
import { hashFromTile, tileFull, tileNodes, tilesFilledBy, tileSpan, TILE_HEIGHT, TILE_WIDTH, type TileId } from '../../domain/merkleTiles.js';
import { fromHex, toHex, type Hash, type NodeId } from '../../domain/merkleTree.js';

// The tiles of the tenant Merkle logs (src/domain/merkleTiles.ts; docs/store.md, "The
// verifiable log"): one document per full tile, written with the nodes that fill it, read by
// _id within the tenant, like every read of the store. Append-only and derived from the
// leaves like the nodes, so writing one twice is harmless and a missing one (a log sealed
// before tiles, a sealer that died between the nodes and the tile) only sends its nodes back
// to the node documents.

export interface TileDoc {
  _id: string;
  tenant_id: string;
  level: number;
  index: number;
  /** The tile's 2^H hashes, lowercase hex, concatenated. */
  hashes: string;
}

/** Node hashes (hex) by "level/index", as LedgerLogStore.readNodes answers. */
export type NodeHashes = Map<string, string>;
export type NodeReader = (ids: readonly NodeId[]) => Promise<NodeHashes>;

const HEX_WIDTH = TILE_WIDTH * 64;
/**
 * Full tiles kept in memory, least recently used first (1 KB each): a full tile never changes,
 * so a cached one is as good as the document. Level ≥ 1 tiles serve 2^(2H) leaves each and stay;
 * level-0 ones serve the entries proven lately.
 */
const MAX_CACHED_TILES = 8_192;
/** Hashes of recently completed nodes at tile levels, so the sealer fills a tile without reading back what it wrote. */
const MAX_RECENT = 8_192;

const nodeName = (id: NodeId) => `${id.level}/${id.index}`;
const splitTile = (bytes: Uint8Array): Hash[] => Array.from({ length: TILE_WIDTH }, (_, k) => bytes.subarray(k * 32, k * 32 + 32));

export class LedgerTiles {
  private readonly cache = new LRUCache<string, Uint8Array>({ max: MAX_CACHED_TILES });
  private readonly recent = new LRUCache<string, string>({ max: MAX_RECENT });
  /**
   * Full tiles found missing (a log sealed before tiles): their nodes are read from the node
   * documents at once, in one round trip. Tiles are written before the checkpoint that covers
   * them, so one missing under a checkpointed tree stays missing; were it written after all,
   * the node documents still give the same hashes.
   */
  private readonly absent = new LRUCache<string, true>({ max: MAX_CACHED_TILES });

  constructor(
    readonly collection: Collection<TileDoc>,
    private readonly keyOf: (tenantId: string, level: number, index: number) => string,
  ) {}

  /**
   * The hashes of perfect subtrees of a tree of at least `size` leaves: those inside full
   * tiles from the tiles (one read per tile, none for a cached one), the rest, and those of
   * tiles not stored, from `nodes`. At most two round trips; one when every tile is there.
   */
  async read(tenantId: string, ids: readonly NodeId[], size: number, nodes: NodeReader): Promise<NodeHashes> {
    const byTile = new Map<string, { tile: TileId; ids: NodeId[] }>();
    const direct: NodeId[] = [];
    for (const id of ids) {
      const { tile } = tileSpan(id);
      if (!tileFull(tile, size) || this.absent.has(this.keyOf(tenantId, tile.level, tile.index))) {
        direct.push(id);
        continue;
      }
      const key = nodeName(tile);
      const group = byTile.get(key) ?? { tile, ids: [] };
      group.ids.push(id);
      byTile.set(key, group);
    }
    const groups = [...byTile.values()];
    const [tiles, found] = await Promise.all([Promise.all(groups.map((g) => this.tile(tenantId, g.tile))), direct.length > 0 ? nodes(direct) : Promise.resolve(new Map() as NodeHashes)]);
    const missing: NodeId[] = [];
    groups.forEach((g, k) => {
      const hashes = tiles[k];
      for (const id of g.ids) {
        if (!hashes) missing.push(id);
        else {
          const { from, count } = tileSpan(id);
          found.set(nodeName(id), toHex(hashFromTile(hashes, from, count)));
        }
      }
    });
    if (missing.length > 0) for (const [k, v] of await nodes(missing)) found.set(k, v);
    return found;
  }

  /** A full tile's hashes, or null when it is not stored (or not readable as one). */
  private async tile(tenantId: string, tile: TileId): Promise<Hash[] | null> {
    const key = this.keyOf(tenantId, tile.level, tile.index);
    const cached = this.cache.get(key);
    if (cached) return splitTile(cached);
    const doc = await this.collection.findOne({ tenant_id: tenantId, _id: key });
    const bytes = doc && doc.tenant_id === tenantId && doc.level === tile.level && doc.index === tile.index && typeof doc.hashes === 'string' && doc.hashes.length === HEX_WIDTH ? fromHex(doc.hashes) : null;
    if (!bytes) {
      this.absent.set(key, true);
      return null;
    }
    this.cache.set(key, bytes);
    return splitTile(bytes);
  }

  /**
   * The tile documents that newly completed nodes fill (each node at a positive multiple of H
   * completes the tile below it). Their hashes come from these nodes, from nodes completed
   * recently, else from `nodes`; a tile whose hashes cannot all be found is left out.
   */
  async filledBy(tenantId: string, completed: readonly { id: NodeId; hash: string }[], nodes: NodeReader): Promise<TileDoc[]> {
    const known = new Map<string, string>();
    for (const { id, hash } of completed) {
      if (id.level % TILE_HEIGHT !== 0) continue;
      known.set(nodeName(id), hash);
      this.recent.set(this.keyOf(tenantId, id.level, id.index), hash);
    }
    const tiles = tilesFilledBy(completed.map((c) => c.id));
    if (tiles.length === 0) return [];
    const unknown = tiles.flatMap(tileNodes).filter((id) => {
      const name = nodeName(id);
      if (known.has(name)) return false;
      const hash = this.recent.peek(this.keyOf(tenantId, id.level, id.index));
      if (hash !== undefined) known.set(name, hash);
      return hash === undefined;
    });
    if (unknown.length > 0) for (const [k, v] of await nodes(unknown)) known.set(k, v);
    const docs: TileDoc[] = [];
    for (const tile of tiles) {
      const hashes = tileNodes(tile).map((id) => known.get(nodeName(id)));
      if (hashes.some((h) => h === undefined || h.length !== 64)) continue;
      docs.push({ _id: this.keyOf(tenantId, tile.level, tile.index), tenant_id: tenantId, level: tile.level, index: tile.index, hashes: hashes.join('').toLowerCase() });
    }
    return docs;
  }
}
