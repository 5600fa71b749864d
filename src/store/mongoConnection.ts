import { MongoClient, type Db } from 'mongodb';

export interface MongoConnection {
  client: MongoClient;
  db: Db;
  /** true when the store answers a ping within the timeout. */
  ping(timeoutMs?: number): Promise<boolean>;
  /**
   * Watches the connection: when pings keep failing while a fresh connection to the same
   * server succeeds, the client's topology is stuck (seen after a store restart under load),
   * so the client is closed and connected again. Db handles stay valid across that.
   */
  superviseReconnects(options: { intervalMs: number; failuresBeforeCheck: number; onReconnect: () => void }): void;
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
    // Poll the server (FerretDB has no streaming hello) so a restarted store is noticed quickly.
    serverMonitoringMode: 'poll',
    heartbeatFrequencyMS: 2000,
    retryWrites: false, // FerretDB has no retryable writes; our writes are idempotent by design instead
    monitorCommands: options.monitorCommands ?? false,
  });
  await client.connect();
  const db = client.db(dbName);
  let watchdog: NodeJS.Timeout | null = null;
  const connection: MongoConnection = {
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
    superviseReconnects: ({ intervalMs, failuresBeforeCheck, onReconnect }) => {
      let failures = 0;
      let busy = false;
      watchdog = setInterval(() => {
        if (busy) return;
        busy = true;
        void (async () => {
          if (await connection.ping()) {
            failures = 0;
            return;
          }
          failures += 1;
          if (failures < failuresBeforeCheck || !(await answersFreshConnection(uri))) return;
          failures = 0;
          onReconnect();
          await client.close(true).catch(() => undefined);
          await client.connect().catch(() => undefined);
        })().finally(() => {
          busy = false;
        });
      }, intervalMs);
      watchdog.unref();
    },
    close: () => {
      if (watchdog) clearInterval(watchdog);
      return client.close();
    },
  };
  return connection;
}

/** true when a new, short-lived client reaches the server and gets a ping answer. */
async function answersFreshConnection(uri: string): Promise<boolean> {
  const probe = new MongoClient(uri, { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 });
  try {
    await probe.connect();
    await probe.db('admin').command({ ping: 1 });
    return true;
  } catch {
    return false;
  } finally {
    await probe.close().catch(() => undefined);
  }
}
