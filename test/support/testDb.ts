import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';

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
