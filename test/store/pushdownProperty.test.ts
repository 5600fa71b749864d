import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { MongoClient, ObjectId, type Db, type Document, type Filter } from 'mongodb';
import { afterTimeId } from '../../src/store/cursor.js';
import { ensureStockFerretdbBinary, startEmbeddedStore, type EmbeddedStore } from '../../src/store/embeddedStore.js';
import { testStoreUri } from '../support/testDb.js';
import { describeIf } from '../support/skip.js';

// The patched FerretDB (the run's store) against stock FerretDB v1.24.2, which filters, sorts
// and counts every document in Go: random documents of mixed shapes (arrays, nulls, missing
// fields, numbers of three types, strings that look like numbers, ObjectIds, dates among
// numbers), random queries of the shapes the store sends (tenant-scoped equality and $in, the
// keyset cursor, ranges, sorts with limits, counts and counts per field). Both must return the
// same documents in the same order, and the same counts. With MONGODB_URI set, the run's store
// is MongoDB, and this compares it with stock FerretDB instead.

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const POOL = ['t1', 't2', 'a', 'b', '10', '9', '', 'ü', 'x<&>"\\'] as const;
const BASE = Date.UTC(2026, 0, 1);

const scalar = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...POOL) },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.integer({ min: -3, max: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom(9.5, 10, -0.5) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 5 }).map((d) => new Date(BASE + d * 86_400_000)) },
);
const array = fc.array(fc.constantFrom('t1', 't2', 'a', 'b', 'DRAFT', 'ACTIVE', '10', 9, 3), { maxLength: 3 });
/** How a field varies in one collection: as the store writes it, mixed with other scalars, or with arrays too. */
type Mode = 'typical' | 'scalars' | 'arrays';
const field = <T>(mode: Mode, typical: fc.Arbitrary<T>) =>
  fc.option(
    mode === 'typical'
      ? typical
      : fc.oneof({ weight: 2, arbitrary: typical }, { weight: 2, arbitrary: scalar }, { weight: mode === 'arrays' ? 1 : 0, arbitrary: array }),
    { freq: 12, nil: undefined },
  );

const time = fc.integer({ min: 0, max: 20 }).map((s) => new Date(BASE + s * 1000));
const FIELDS = {
  tenant_id: fc.constantFrom('t1', 't2'),
  account_id: fc.constantFrom('a', 'b'),
  plan_status: fc.constantFrom('DRAFT', 'ACTIVE', 'PAUSED'),
  updated_at: time,
  seq: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(2.5, 3.0)),
  day: fc.constantFrom('2026-01-01', '2026-01-02'),
} as const;
const mode = fc.constantFrom<Mode>('typical', 'scalars', 'scalars', 'arrays');
/** Documents whose fields vary independently: the exact path (LIMIT and COUNT in SQL) where a field kept its type, and every mix. */
const documentsArb = fc
  .record({ modes: fc.record(Object.fromEntries(Object.keys(FIELDS).map((k) => [k, mode])) as Record<keyof typeof FIELDS, fc.Arbitrary<Mode>>), objectIds: fc.boolean() })
  .chain(({ modes, objectIds }) =>
    fc
      .array(
        fc.record(
          Object.fromEntries(Object.entries(FIELDS).map(([k, typical]) => [k, field(modes[k as keyof typeof FIELDS], typical as fc.Arbitrary<unknown>)])),
          { requiredKeys: [] },
        ),
        { minLength: 0, maxLength: 25 },
      )
      .map((docs) =>
        docs.map((d, i) => {
          const doc: Document = { _id: objectIds && i % 13 === 12 ? new ObjectId() : `d${String(i).padStart(2, '0')}` };
          for (const [k, v] of Object.entries(d)) if (v !== undefined) doc[k] = v;
          return doc;
        }),
      ),
  );

/** Mostly absent: a query usually has one or two conditions besides the tenant. */
const sometimes = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
const base = fc
  .record({
    tenant_id: fc.constantFrom<unknown>('t1', 't2', '10'),
    account_id: sometimes(fc.constantFrom<unknown>('a', 'b', 9)),
    plan_status: sometimes(fc.oneof(fc.constantFrom('DRAFT', 'ACTIVE'), fc.constant({ $in: ['DRAFT', 'PAUSED'] }), fc.constant({ $in: ['ACTIVE'] }))),
    seq: sometimes(fc.oneof(fc.integer({ min: 1, max: 9 }).map((n) => ({ $lte: n })), fc.integer({ min: 0, max: 9 }).map((n) => ({ $gt: n })), fc.constant(3))),
    updated_at: sometimes(fc.tuple(time, time).map(([a, b]) => ({ $gte: a < b ? a : b, $lt: a < b ? b : a }))),
  })
  .map((f) => Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)) as Filter<Document>);

type Query =
  | { kind: 'list'; filter: Filter<Document>; sort: Record<string, 1 | -1>; limit: number }
  | { kind: 'count'; filter: Filter<Document> }
  | { kind: 'group'; filter: Filter<Document>; by: string | string[] };

const keyset = fc.option(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.constantFrom('d05', 'd20', 'z')), { nil: null });
const queryArb: fc.Arbitrary<Query> = fc.oneof(
  fc.record({ filter: base, after: keyset, limit: fc.integer({ min: 1, max: 8 }) }).map(({ filter, after, limit }) => ({
    kind: 'list' as const,
    filter: afterTimeId(filter, 'updated_at', after ? { t: BASE + after[0] * 1000, id: after[1] } : null),
    sort: { updated_at: -1 as const, _id: -1 as const },
    limit,
  })),
  fc.record({ filter: base, limit: fc.integer({ min: 1, max: 8 }), sort: fc.constantFrom<Record<string, 1 | -1>>({ seq: 1, _id: 1 }, { _id: 1 }, { plan_status: 1, _id: -1 }) }).map(
    (q) => ({ kind: 'list' as const, ...q }),
  ),
  base.map((filter) => ({ kind: 'count' as const, filter })),
  base.map((filter) => ({ kind: 'count' as const, filter })),
  fc.record({ filter: base, by: fc.constantFrom<string | string[]>('plan_status', 'account_id', ['plan_status', 'day']) }).map((q) => ({ kind: 'group' as const, ...q })),
);

const INDEXES: Record<string, 1 | -1>[] = [
  { tenant_id: 1, updated_at: -1, _id: -1 },
  { tenant_id: 1, plan_status: 1, updated_at: -1, _id: -1 },
  { tenant_id: 1, account_id: 1, updated_at: -1, _id: -1 },
  { tenant_id: 1, seq: 1 },
  { tenant_id: 1, plan_status: 1, day: 1 },
];

async function answer(db: Db, collection: string, q: Query): Promise<unknown> {
  const c = db.collection(collection);
  switch (q.kind) {
    case 'list':
      return (await c.find(q.filter).sort(q.sort).limit(q.limit).toArray()).map((d) => String(d._id));
    case 'count':
      return c.countDocuments(q.filter);
    case 'group': {
      const id = Array.isArray(q.by) ? Object.fromEntries(q.by.map((f) => [f, `$${f}`])) : `$${q.by}`;
      const rows = await c.aggregate([{ $match: q.filter }, { $group: { _id: id, n: { $sum: 1 } } }]).toArray();
      return rows.map((r) => JSON.stringify(r)).sort();
    }
  }
}

// Stock FerretDB is built from its Go module on first use; without Go (a MongoDB-only setup)
// this comparison cannot run here.
const canBuildStock = spawnSync('go', ['version']).status === 0 || existsSync(join(PROJECT_ROOT, '.bin', 'ferretdb-stock'));

describeIf(canBuildStock, 'pushdownProperty: no Go toolchain to build stock FerretDB')('pushdown property: the patched store answers like stock FerretDB', () => {
  let stock: EmbeddedStore;
  let stockDir: string;
  let stockClient: MongoClient;
  let patchedClient: MongoClient;
  let stockDb: Db;
  let patchedDb: Db;
  let run = 0;

  beforeAll(async () => {
    const binary = await ensureStockFerretdbBinary();
    stockDir = await mkdtemp(join(tmpdir(), 'renewal-defense-stock-store-'));
    stock = await startEmbeddedStore({ dataDir: stockDir, binary });
    stockClient = new MongoClient(stock.uri, { directConnection: true });
    patchedClient = new MongoClient(testStoreUri());
    await Promise.all([stockClient.connect(), patchedClient.connect()]);
    const name = `prop_${process.pid}_${Date.now()}`;
    stockDb = stockClient.db(name);
    patchedDb = patchedClient.db(name);
  }, 600_000);
  afterAll(async () => {
    await patchedDb?.dropDatabase().catch(() => undefined);
    await Promise.all([stockClient?.close(), patchedClient?.close()]);
    await stock?.stop();
    if (stockDir) await rm(stockDir, { recursive: true, force: true });
  });

  it('same documents in the same order, same counts', async () => {
    await fc.assert(
      fc.asyncProperty(documentsArb, fc.array(queryArb, { minLength: 1, maxLength: 12 }), async (docs, queries) => {
        const collection = `c${run++}`;
        for (const db of [stockDb, patchedDb]) {
          for (const [i, key] of INDEXES.entries()) await db.collection(collection).createIndex(key, { name: `i${i}` });
          if (docs.length > 0) await db.collection(collection).insertMany(docs.map((d) => ({ ...d })));
        }
        for (const q of queries) {
          const [expected, actual] = await Promise.all([answer(stockDb, collection, q), answer(patchedDb, collection, q)]);
          expect({ q, docs, actual }).toEqual({ q, docs, actual: expected });
        }
      }),
      { numRuns: Number(process.env.PUSHDOWN_PROPERTY_RUNS ?? 200) },
    );
  }, 600_000);
});
