import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient, type CommandStartedEvent, type Db } from 'mongodb';
import { InsertBatcher } from '../../src/store/InsertBatcher.js';
import { isDuplicateKeyError } from '../../src/store/mongoErrors.js';
import { openTestDb, testStoreUri, type TestDb } from '../support/testDb.js';

// Group commit against the real store: what goes over the wire, and what each caller learns.

type Doc = { _id: string; n: number };

describe('InsertBatcher', () => {
  let t: TestDb;
  let client: MongoClient;
  let db: Db;
  const sent: CommandStartedEvent[] = [];

  beforeAll(async () => {
    t = await openTestDb('batch');
    client = new MongoClient(testStoreUri(), { monitorCommands: true });
    await client.connect();
    db = client.db(t.dbName);
    await db.createCollection('docs');
    client.on('commandStarted', (e) => {
      if (e.commandName === 'insert') sent.push(e);
    });
  });
  afterAll(async () => {
    await client.close();
    await t.close();
  });

  const docsIn = (e: CommandStartedEvent) => (e.command.documents as Doc[]).length;

  it('sends a lone insert at once, as one document', async () => {
    sent.length = 0;
    const batcher = new InsertBatcher<Doc>(db.collection<Doc>('docs'));
    await batcher.insert({ _id: 'lone', n: 0 });
    expect(sent.map(docsIn)).toEqual([1]);
    expect(await db.collection<Doc>('docs').findOne({ _id: 'lone' })).toEqual({ _id: 'lone', n: 0 });
  });

  it('coalesces concurrent inserts into a few commands, every document stored once', async () => {
    sent.length = 0;
    const batcher = new InsertBatcher<Doc>(db.collection<Doc>('docs'), { maxBatch: 40, maxInFlight: 2 });
    await Promise.all(Array.from({ length: 200 }, (_, n) => batcher.insert({ _id: `c-${n}`, n })));
    expect(sent.map(docsIn).reduce((a, b) => a + b, 0)).toBe(200);
    expect(sent.length).toBeLessThan(20);
    expect(Math.max(...sent.map(docsIn))).toBeLessThanOrEqual(40);
    expect(sent.every((e) => e.command.ordered === false || docsIn(e) === 1)).toBe(true);
    expect(await db.collection('docs').countDocuments({ _id: { $regex: '^c-' } } as never)).toBe(200);
  });

  it('with a linger, inserts spread over time wait for each other and go as one command; a full batch goes at once', async () => {
    sent.length = 0;
    const batcher = new InsertBatcher<Doc>(db.collection<Doc>('docs'), { maxBatch: 4, lingerMs: 150 });
    const started = performance.now();
    const spread: Promise<void>[] = [];
    for (let n = 0; n < 3; n++) {
      spread.push(batcher.insert({ _id: `l-${n}`, n }));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await Promise.all(spread);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(sent.map(docsIn)).toEqual([3]);

    sent.length = 0;
    const full = performance.now();
    await Promise.all(Array.from({ length: 4 }, (_, n) => batcher.insert({ _id: `l-full-${n}`, n })));
    expect(performance.now() - full).toBeLessThan(140);
    expect(sent.map(docsIn)).toEqual([4]);
    expect(await db.collection('docs').countDocuments({ _id: { $regex: '^l-' } } as never)).toBe(7);
  });

  it('a duplicate key fails only its own insert; the rest of its batch is stored', async () => {
    const batcher = new InsertBatcher<Doc>(db.collection<Doc>('docs'));
    await batcher.insert({ _id: 'taken', n: 0 });
    const results = await Promise.allSettled(
      [...Array.from({ length: 10 }, (_, n) => ({ _id: `d-${n}`, n })), { _id: 'taken', n: 1 }, { _id: 'd-dup', n: 2 }, { _id: 'd-dup', n: 3 }].map((d) => batcher.insert(d)),
    );
    const rejected = results.flatMap((r, i) => (r.status === 'rejected' ? [{ i, reason: r.reason as unknown }] : []));
    expect(rejected.map((r) => r.i)).toEqual([10, 12]);
    for (const r of rejected) expect(isDuplicateKeyError(r.reason)).toBe(true);
    expect(await db.collection<Doc>('docs').findOne({ _id: 'taken' })).toEqual({ _id: 'taken', n: 0 });
    expect(await db.collection<Doc>('docs').findOne({ _id: 'd-dup' })).toEqual({ _id: 'd-dup', n: 2 });
    expect(await db.collection('docs').countDocuments({ _id: { $regex: '^d-' } } as never)).toBe(11);
  });

  it('a command the server refuses as a whole fails every insert it carried, a lone one too', async () => {
    // The driver reports this as a MongoBulkWriteError without write errors: nothing was stored.
    const refused = new InsertBatcher<Doc>(db.collection<Doc>('bad$name'));
    const results = await Promise.allSettled([refused.insert({ _id: 'r-0', n: 0 }), refused.insert({ _id: 'r-1', n: 1 }), refused.insert({ _id: 'r-2', n: 2 })]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    await expect(refused.insert({ _id: 'r-3', n: 3 })).rejects.toBeDefined();
  });

  it('a failed command fails every insert it carried', async () => {
    const closed = new MongoClient(testStoreUri(), { serverSelectionTimeoutMS: 500 });
    await closed.connect();
    const batcher = new InsertBatcher<Doc>(closed.db(t.dbName).collection<Doc>('docs'));
    await closed.close();
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, n) => batcher.insert({ _id: `e-${n}`, n })));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(await db.collection('docs').countDocuments({ _id: { $regex: '^e-' } } as never)).toBe(0);
  });
});
