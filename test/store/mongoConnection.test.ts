import { describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { EMBEDDED_STORE_APP_NAME, isEmbeddedStoreUri } from '../../src/store/embeddedStore.js';
import { connectMongo, mongoClientOptions } from '../../src/store/mongoConnection.js';
import { testStoreUri } from '../support/testDb.js';

// FerretDB's settings go to the embedded FerretDB only (a URI startEmbeddedStore made); any other
// server gets the driver's defaults. Checked on the options the client is built with, as the
// driver resolves them.
const embedded = `mongodb://127.0.0.1:40123/?appName=${EMBEDDED_STORE_APP_NAME}`;
const other = 'mongodb://db.example.internal:27017/?replicaSet=rs0';
const resolved = (uri: string) => new MongoClient(uri, mongoClientOptions(uri)).options;

describe('mongoClientOptions', () => {
  it('gives the embedded FerretDB polling monitoring, a short heartbeat and no retryable writes', () => {
    expect(isEmbeddedStoreUri(embedded)).toBe(true);
    expect(mongoClientOptions(embedded)).toMatchObject({ retryWrites: false, serverMonitoringMode: 'poll', heartbeatFrequencyMS: 2000 });
    expect(resolved(embedded)).toMatchObject({ retryWrites: false, serverMonitoringMode: 'poll', heartbeatFrequencyMS: 2000 });
  });

  it('gives any other server the driver defaults: retryable writes and its normal monitoring', () => {
    expect(isEmbeddedStoreUri(other)).toBe(false);
    expect(isEmbeddedStoreUri('mongodb://127.0.0.1:40123/')).toBe(false);
    expect(isEmbeddedStoreUri(`mongodb://127.0.0.1:40123/?appName=${EMBEDDED_STORE_APP_NAME}-not`)).toBe(false);
    const options = mongoClientOptions(other);
    for (const key of ['retryWrites', 'serverMonitoringMode', 'heartbeatFrequencyMS']) expect(options).not.toHaveProperty(key);
    const defaults = new MongoClient(other).options;
    expect(resolved(other)).toMatchObject({
      retryWrites: true,
      serverMonitoringMode: defaults.serverMonitoringMode,
      heartbeatFrequencyMS: defaults.heartbeatFrequencyMS,
    });
    expect(defaults.serverMonitoringMode).toBe('auto');
  });

  it('keeps the short timeouts and command monitoring on both', () => {
    for (const uri of [embedded, other]) {
      expect(mongoClientOptions(uri, { monitorCommands: true })).toMatchObject({ serverSelectionTimeoutMS: 3000, connectTimeoutMS: 3000, monitorCommands: true });
    }
  });
});

describe('the reconnect watchdog (real store)', () => {
  /** Runs the watchdog with pings that fail (as they do waiting for a saturated pool, or on a stuck topology). */
  async function watch(withLoad: boolean): Promise<number> {
    const connection = await connectMongo(testStoreUri(), `watchdog_${process.pid}`);
    let reconnects = 0;
    connection.ping = async () => false;
    connection.superviseReconnects({ intervalMs: 100, failuresBeforeCheck: 2, onReconnect: () => (reconnects += 1) });
    const until = Date.now() + 1500;
    try {
      // The load: other tenants' operations, completing all along.
      while (Date.now() < until) {
        if (withLoad) await connection.db.collection('load').findOne({ _id: 'x' as never });
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await connection.close();
    }
    return reconnects;
  }

  it('leaves a client alone while its operations complete (a saturated pool), and reconnects one where nothing does', async () => {
    expect(await watch(true)).toBe(0);
    expect(await watch(false)).toBeGreaterThan(0);
  }, 30_000);
});
