import { randomBytes } from 'node:crypto';
import { MongoClient, type Db, type Document } from 'mongodb';
import { ensureIndexes } from '../../src/store/indexes.js';

export interface TestDb {
  client: MongoClient;
  db: Db;
  uri: string;
  dbName: string;
  /** Drops the database and closes the client. */
  close(): Promise<void>;
}

/** The store the run's global setup started (or MONGODB_URI). */
export function testStoreUri(): string {
  const uri = process.env.TEST_MONGODB_URI;
  if (!uri) throw new Error('TEST_MONGODB_URI is unset: run tests through jest (global setup starts the store)');
  return uri;
}

/** A database of its own for one test file, on the real store, through the official driver. */
export async function openTestDb(prefix = 't'): Promise<TestDb> {
  const uri = testStoreUri();
  const dbName = `${prefix}_${randomBytes(6).toString('hex')}`;
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const db = client.db(dbName);
  return {
    client,
    db,
    uri,
    dbName,
    close: async () => {
      await db.dropDatabase().catch(() => undefined);
      await client.close();
    },
  };
}

/** What the run's store is, asked once per test file before its tests register. */
export interface TestStoreProfile {
  ferretdb: boolean;
  /** Names the store a skipped test needs, for its name (jest's summary counts it as skipped). */
  needs(what: 'MongoDB' | 'FerretDB'): string;
}

/**
 * Read with a top-level await, so a test for a store the run does not have registers as
 * skipped (`(profile.ferretdb ? it : it.skip)(…)`) instead of passing without checking.
 */
export async function testStoreProfile(): Promise<TestStoreProfile> {
  const t = await openTestDb('profile');
  try {
    await ensureIndexes(t.db);
    const build = (await t.db.admin().command({ buildInfo: 1 })) as Document;
    const ferretdb = typeof build.ferretdbVersion === 'string';
    const store = ferretdb ? `FerretDB ${String(build.ferretdbVersion)}` : `MongoDB ${String(build.version)}`;
    return { ferretdb, needs: (what) => `[needs ${what}; this run has ${store}]` };
  } finally {
    await t.close();
  }
}
