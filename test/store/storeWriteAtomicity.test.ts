import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Collection } from 'mongodb';
import { openTestDb, type TestDb } from '../support/testDb.js';

// What the service's write protocol takes from the store (docs/store.md, "What the store must
// guarantee"): each update is atomic on its document (conditional updates, leases and counters
// rely on it), and a bulk write of any size finishes. The embedded store gets both from our
// patch of its handler (tools/ferretdb/patches/0007); before it, the first test stopped the
// database for good and the other two lost writes.

interface Doc {
  _id: number;
  n: number;
}

describe('the store: writes the protocol relies on', () => {
  let t: TestDb;
  let docs: Collection<Doc>;
  const COUNT = 250; // more than the embedded store's pooled connections per database (100)

  beforeAll(async () => {
    t = await openTestDb('atomicity');
    docs = t.db.collection<Doc>('docs');
  });
  afterAll(() => t.close());

  const reset = async () => {
    await docs.deleteMany({});
    await docs.insertMany(Array.from({ length: COUNT }, (_v, i) => ({ _id: i, n: 0 })));
  };

  it('a bulk write of more single-document updates than the store has connections finishes, each applied', async () => {
    await reset();
    const result = await docs.bulkWrite(
      Array.from({ length: COUNT }, (_v, i) => ({ replaceOne: { filter: { _id: i }, replacement: { n: i + 1 }, upsert: true } })),
      { ordered: false },
    );
    expect(result.matchedCount).toBe(COUNT);
    // And the database still answers.
    const all = await docs.find({}).sort({ _id: 1 }).toArray();
    expect(all.map((d) => d.n)).toEqual(Array.from({ length: COUNT }, (_v, i) => i + 1));
  }, 60_000);

  it('concurrent increments of one document all count', async () => {
    await reset();
    await Promise.all(Array.from({ length: 2 * COUNT }, (_v, i) => docs.findOneAndUpdate({ _id: i % COUNT }, { $inc: { n: 1 } })));
    await Promise.all(Array.from({ length: 100 }, () => docs.updateOne({ _id: 0 }, { $inc: { n: 1 } })));
    const all = await docs.find({}).sort({ _id: 1 }).toArray();
    expect(all.map((d) => d.n)).toEqual(Array.from({ length: COUNT }, (_v, i) => (i === 0 ? 102 : 2)));
  }, 60_000);

  it('of concurrent conditional updates of one document, exactly one matches', async () => {
    await reset();
    const contenders = 64;
    const results = await Promise.all(Array.from({ length: contenders }, (_v, i) => docs.updateOne({ _id: 7, n: 0 }, { $set: { n: i + 1 } })));
    expect(results.reduce((sum, r) => sum + r.matchedCount, 0)).toBe(1);
    const won = results.findIndex((r) => r.matchedCount === 1);
    expect(await docs.findOne({ _id: 7 })).toEqual({ _id: 7, n: won + 1 });
  }, 60_000);
});
