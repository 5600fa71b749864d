import { MongoClient, type Db } from 'mongodb';

export interface MongoConnection {
  client: MongoClient;
  db: Db;
  /** true when the store answers a ping within the timeout. */
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Connects through the official driver. Timeouts are short so that, when the store is down,
 * requests fail fast with a clean error instead of hanging; the driver reconnects by itself.
 */
export async function connectMongo(uri: string, dbName: string, options: { monitorCommands?: boolean } = {}): Promise<MongoConnection> {
  const client = new MongoClient(uri, {
    appName: 'renewal-defense',
    serverSelectionTimeoutMS: 3000,
    connectTimeoutMS: 3000,
    socketTimeoutMS: 15_000,
    maxPoolSize: 64,
    retryWrites: false, // FerretDB has no retryable writes; our writes are idempotent by design instead
    monitorCommands: options.monitorCommands ?? false,
  });
  await client.connect();
  const db = client.db(dbName);
  return {
    client,
    db,
    ping: async (timeoutMs = 1000) => {
      try {
        await db.command({ ping: 1 }, { timeoutMS: timeoutMs });
        return true;
      } catch {
        return false;
      }
    },
    close: () => client.close(),
  };
}
