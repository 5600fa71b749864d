import type { Db, Document } from 'mongodb';
import { PLAN_LEDGER_COLLECTION } from './indexes.js';

// What the store behind the driver can do for us, decided once per database. The store's
// repositories take it as an option; without one they detect it themselves on first use.
//
// idOnlyPushdown: the server hands only a filter that is exactly {_id: <string>} to its
// storage engine; every other filter (tenant-scoped, compound, with operators) is a full
// collection scan that decodes every document. True for FerretDB v1 (SQLite backend), whose
// secondary indexes only enforce uniqueness. There the store writes by _id alone and checks
// tenant and conditions in code (see docs/store.md).
//
// idLookupIndexed: a {_id} lookup is an index search. True on MongoDB. On FerretDB v1.24 with
// SQLite it is NOT: the pushed-down condition (`_ferretdb_sjson->'$._id' = ?`) is not the
// expression of its _id index (`_ferretdb_sjson->"_id"`), so SQLite scans the table (cheaper
// than the scan in FerretDB, stopping at the first hit, but linear; a miss reads every row).
// Detected with explain ("SEARCH … USING INDEX" vs "SCAN"), so a FerretDB built with the
// expressions aligned gets point reads for a plan's chain too.
//
// MongoDB (and FerretDB v2, which runs on real indexes) serve the tenant-scoped filters from
// the compound indexes, so the store sends those.

export interface StoreCapabilities {
  idOnlyPushdown: boolean;
  idLookupIndexed: boolean;
}

/** Capabilities of a store that plans compound filters with its indexes (MongoDB). */
export const INDEXED_STORE: StoreCapabilities = Object.freeze({ idOnlyPushdown: false, idLookupIndexed: true });

/** What the store capabilities option accepts: a value, or a detection still running. */
export type StoreCapabilitiesOption = StoreCapabilities | Promise<StoreCapabilities>;

/** Reads the capabilities from a buildInfo answer (exported for tests). */
export function capabilitiesFromBuildInfo(buildInfo: Document): StoreCapabilities {
  const ferretdbVersion = buildInfo.ferretdbVersion;
  if (typeof ferretdbVersion !== 'string') return INDEXED_STORE;
  // FerretDB reports its own version besides the MongoDB version it emulates. v1 plans
  // reads without secondary indexes (SQLite: only {_id} is pushed down); v2 runs on
  // PostgreSQL with DocumentDB and uses indexes.
  const major = /^v?(\d+)\./.exec(ferretdbVersion)?.[1];
  const idOnlyPushdown = major === undefined || Number(major) < 2;
  return { idOnlyPushdown, idLookupIndexed: !idOnlyPushdown };
}

/** Whether a FerretDB explain of a {_id} find reports an index search (SQLite's query plan). */
export function idLookupIndexedFromExplain(explained: Document): boolean {
  const plan = (explained.queryPlanner as Document | undefined)?.Plan;
  return Array.isArray(plan) && plan.some((line) => typeof line === 'string' && /USING (COVERING )?INDEX/.test(line));
}

/** Reads the capabilities of a store that answered buildInfo with `buildInfo` (explain as needed). */
async function probe(db: Db, buildInfo: Document): Promise<StoreCapabilities> {
  const capabilities = capabilitiesFromBuildInfo(buildInfo);
  if (!capabilities.idOnlyPushdown) return capabilities;
  // Needs the collection to exist (ensureIndexes creates it); without it: not indexed.
  const explained = (await db.command({ explain: { find: PLAN_LEDGER_COLLECTION, filter: { _id: '' }, limit: 1 }, verbosity: 'queryPlanner' })) as Document;
  return { ...capabilities, idLookupIndexed: idLookupIndexedFromExplain(explained) };
}

/**
 * Asks the server what it is (buildInfo, which every MongoDB-compatible server answers), and
 * on FerretDB how it plans a {_id} lookup (explain). Run it after ensureIndexes.
 * A failure rejects: callers retry rather than guess, since guessing wrong is either slow
 * (FerretDB taken for MongoDB) or still correct but needlessly split (the other way).
 */
export async function detectStoreCapabilities(db: Db): Promise<StoreCapabilities> {
  const buildInfo = (await db.admin().command({ buildInfo: 1 })) as Document;
  return probe(db, buildInfo);
}

const detected = new WeakMap<Db, Promise<StoreCapabilities>>();

/**
 * The option's value, or a detection shared by everything built on the same Db object. A
 * failed detection is forgotten, so the next call asks again.
 */
export function resolveCapabilities(db: Db, option: StoreCapabilitiesOption | undefined): () => Promise<StoreCapabilities> {
  if (option !== undefined) {
    const given = Promise.resolve(option);
    return () => given;
  }
  return () => {
    let pending = detected.get(db);
    if (!pending) {
      pending = detectStoreCapabilities(db);
      detected.set(db, pending);
      pending.catch(() => {
        if (detected.get(db) === pending) detected.delete(db);
      });
    }
    return pending;
  };
}
