import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient, type Document, type IndexDirection } from 'mongodb';
import { ensureFerretdbBinary, ensureStockFerretdbBinary, startEmbeddedStore, type EmbeddedStore } from '../../src/store/embeddedStore.js';
import { LEDGER_INDEXES, PLAN_INDEXES, PLANS_COLLECTION, PLAN_LEDGER_COLLECTION, ensureIndexes } from '../../src/store/indexes.js';
import { LEDGER_LOG_INDEXES } from '../../src/store/ledgerLog/ledgerLogIndexes.js';
import { describeIf } from '../support/skip.js';

// An upgrade: a data directory first written by stock FerretDB (what an earlier, unpatched build
// of this product left), then opened by the patched store. Patch 0006 must rebuild the service's
// indexes on the patched expressions at start, so that tenant-scoped queries search them: the
// service's createIndexes cannot (FerretDB's handler drops a request for an identical index).
// Each index is checked with a query only it serves best (queryFor), through explain: SQLite's
// plan names the index it searches. The Go tests of the patch
// (internal/backends/sqlite/upgrade_test.go) check the SQL of each index and that a current
// database is not rebuilt at every start.

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BASE = Date.UTC(2026, 0, 1);
const DATE_FIELDS = new Set(['updated_at', 'expires_at', 'timestamp']);
const NUMBER_FIELDS = new Set(['seq', 'index', 'level', 'tree_size']);
const DOCS = 6;

/** Every index of the service, by collection. */
const INDEXES: { collection: string; name: string; key: Record<string, IndexDirection> }[] = [
  ...PLAN_INDEXES.map((d) => ({ collection: PLANS_COLLECTION, ...d })),
  ...LEDGER_INDEXES.map((d) => ({ collection: PLAN_LEDGER_COLLECTION, ...d })),
  ...LEDGER_LOG_INDEXES.map(([collection, d]) => ({ collection, ...d })),
];

/** The value of a field in the i-th document: distinct per document, of the field's one type. */
function valueOf(field: string, i: number): unknown {
  if (field === 'tenant_id') return i % 2 === 0 ? 't1' : 't2';
  if (DATE_FIELDS.has(field)) return new Date(BASE + i * 1000);
  if (NUMBER_FIELDS.has(field)) return i;
  return `${field}-${i}`;
}

/** Top-level fields of an index key that a pushed-down equality can use (`_id` has its own index; nested fields are not pushed down). */
const searchable = (key: Record<string, IndexDirection>) => Object.keys(key).filter((f) => f !== '_id' && !f.includes('.'));

function documents(collection: string): Document[] {
  const fields = new Set(INDEXES.filter((i) => i.collection === collection).flatMap((i) => searchable(i.key)));
  return Array.from({ length: DOCS }, (_, i) => ({ _id: `${collection}-${i}`, ...Object.fromEntries([...fields].map((f) => [f, valueOf(f, i)])) }));
}

type Index = (typeof INDEXES)[number];

/**
 * A query only this index serves best: equality on its fields, sorted by the rest of its key
 * (as the service's lists are: the tenant's newest first, ties by _id). When another
 * index starts with the same fields (ledger_tenant_time, ledger_tenant_time_event_day), equality
 * on all but the last, as the tenant feed asks: then only this one also holds the order.
 */
function queryFor(index: Index): { filter: Document; sort: Record<string, 1 | -1> } {
  const fields = searchable(index.key);
  const shared = INDEXES.some((o) => o !== index && o.collection === index.collection && searchable(o.key).length > fields.length && fields.every((f, k) => searchable(o.key)[k] === f));
  const filter = Object.fromEntries((shared ? fields.slice(0, -1) : fields).map((f) => [f, valueOf(f, 2)]));
  const sort = Object.entries(index.key).filter(([f]) => !f.includes('.') && !(f in filter));
  return { filter, sort: Object.fromEntries(sort.map(([f, direction]) => [f, Number(direction) < 0 ? -1 : 1])) };
}

/** What the query returns from documents(), computed here: equality, then the sort, then the limit. */
function expected(collection: string, filter: Document, sort: Record<string, 1 | -1>, limit: number): unknown[] {
  const plain = (v: unknown) => (v instanceof Date ? v.getTime() : v) as string | number;
  const compare = (a: unknown, b: unknown) => (plain(a) < plain(b) ? -1 : plain(a) > plain(b) ? 1 : 0);
  return documents(collection)
    .filter((d) => Object.entries(filter).every(([f, v]) => plain(d[f]) === plain(v)))
    .sort((x, y) => {
      for (const [f, direction] of Object.entries(sort)) {
        const c = compare(x[f], y[f]);
        if (c !== 0) return direction * c;
      }
      return 0;
    })
    .slice(0, limit)
    .map((d) => d._id);
}

// Both binaries are built from the Go module on first use; without Go (a MongoDB-only setup)
// the upgrade cannot be replayed here.
const canBuild =
  spawnSync('go', ['version']).status === 0 || (existsSync(join(PROJECT_ROOT, '.bin', 'ferretdb-stock')) && existsSync(join(PROJECT_ROOT, '.bin', 'ferretdb')));

describeIf(canBuild, 'storeUpgrade: no Go toolchain to build stock and patched FerretDB')('upgrade from a data directory stock FerretDB wrote', () => {
  let dir: string;
  let store: EmbeddedStore | undefined;
  let client: MongoClient | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'renewal-defense-upgrade-'));
    const [stockBinary, patchedBinary] = [await ensureStockFerretdbBinary(), await ensureFerretdbBinary()];

    // The earlier build: the service's indexes and some documents, written by stock FerretDB.
    store = await startEmbeddedStore({ dataDir: dir, binary: stockBinary });
    client = new MongoClient(store.uri, { directConnection: true });
    await ensureIndexes(client.db('upgrade'));
    for (const collection of new Set(INDEXES.map((i) => i.collection))) await client.db('upgrade').collection(collection).insertMany(documents(collection));
    await client.close();
    await store.stop();

    // The upgrade: the patched store on the same directory; the service creates its indexes at start.
    store = await startEmbeddedStore({ dataDir: dir, binary: patchedBinary });
    client = new MongoClient(store.uri, { directConnection: true });
    await ensureIndexes(client.db('upgrade'));
  }, 600_000);
  afterAll(async () => {
    await client?.close();
    await store?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each(INDEXES.filter((i) => searchable(i.key).length > 0).map((i) => [i.name, i] as const))('%s serves its query after the upgrade', async (name, index) => {
    const db = client!.db('upgrade');
    const { filter, sort } = queryFor(index);
    const explained = (await db.command({ explain: { find: index.collection, filter, sort, limit: 2 }, verbosity: 'queryPlanner' })) as Document;
    const plan = JSON.stringify(explained.queryPlanner);
    expect({ filter, searchesIndex: new RegExp(`SEARCH \\S+ USING (COVERING )?INDEX \\S+_${name} `).test(plan), scans: /detail=SCAN /.test(plan), plan }).toEqual({
      filter,
      searchesIndex: true,
      scans: false,
      plan,
    });
    // And it answers as before.
    const found = await db.collection(index.collection).find(filter).sort(sort).limit(2).toArray();
    expect(found.map((d) => d._id)).toEqual(expected(index.collection, filter, sort, 2));
  });
});
