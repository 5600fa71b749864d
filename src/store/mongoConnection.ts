import { MongoClient, type Db, type MongoClientOptions } from 'mongodb';
import { isEmbeddedStoreUri } from './embeddedStore.js';
import { repeat, type Repeating } from '../runtime/repeat.js';

export interface MongoConnection {
  client: MongoClient;
  db: Db;
  /** true when the store answers a ping within the timeout. */
  ping(timeoutMs?: number): Promise<boolean>;
  /**
   * Watches the connection: when pings keep failing, no operation completes meanwhile, and a
   * fresh connection to the same server succeeds, the client's topology is stuck (seen after a
   * store restart under load), so the client is closed and connected again. Db handles stay
   * valid across that. A pool saturated by load (pings time out waiting for a connection while
   * operations complete) is not stuck and is left alone.
   */
  superviseReconnects(options: { intervalMs: number; failuresBeforeCheck: number; onReconnect: () => void }): void;
  close(): Promise<void>;
}

/**
 * The driver's options. Timeouts are short so that, when the store is down, requests fail fast
 * with a clean error instead of hanging; the driver reconnects by itself. Only the embedded
 * FerretDB (a URI startEmbeddedStore made) gets FerretDB's settings; any other server the
 * driver's defaults (retryable writes, its normal monitoring).
 */
export function mongoClientOptions(uri: string, options: { monitorCommands?: boolean } = {}): MongoClientOptions {
  const common: MongoClientOptions = {
    appName: 'renewal-defense',
    serverSelectionTimeoutMS: 3000,
    connectTimeoutMS: 3000,
    socketTimeoutMS: 15_000,
    maxPoolSize: 64,
    monitorCommands: options.monitorCommands ?? false,
  };
  if (!isEmbeddedStoreUri(uri)) return common;
  return {
    ...common,
    // FerretDB has no streaming hello: poll it often, so a restarted store is noticed quickly.
    serverMonitoringMode: 'poll',
    heartbeatFrequencyMS: 2000,
    // FerretDB has no retryable writes; the store's writes are idempotent by design instead.
    retryWrites: false,
  };
}

/** Connects through the official driver with mongoClientOptions. */
export async function connectMongo(uri: string, dbName: string, options: { monitorCommands?: boolean } = {}): Promise<MongoConnection> {
  const client = new MongoClient(uri, mongoClientOptions(uri, options));
  await client.connect();
  const db = client.db(dbName);
  let watchdog: Repeating | null = null;
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
      // Operations that complete check their connection back in. While they do, the topology
      // works and a failing ping only waited for a busy pool (saturated by load): closing the
      // client then would fail every tenant's requests in flight.
      let checkedIn = 0;
      client.on('connectionCheckedIn', () => {
        checkedIn += 1;
      });
      let checkedInAtLastCheck = 0;
      const check = async () => {
        const progressed = checkedIn !== checkedInAtLastCheck;
        checkedInAtLastCheck = checkedIn;
        if ((await connection.ping()) || progressed || checkedIn !== checkedInAtLastCheck) {
          failures = 0;
          return;
        }
        failures += 1;
        if (failures < failuresBeforeCheck || !(await answersFreshConnection(uri))) return;
        failures = 0;
        onReconnect();
        await client.close(true).catch(() => undefined);
        await client.connect().catch(() => undefined);
      };
      watchdog = repeat(check, { intervalMs, onError: () => undefined });
    },
    close: async () => {
      // After a check under way, so that no reconnect opens the client again.
      await watchdog?.stop();
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
