import { resolve } from 'node:path';
import type { AppConfig } from '../config/env.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { isEmbeddedStoreUri, startEmbeddedStore, type EmbeddedStore } from '../store/embeddedStore.js';
import { connectMongo, type MongoConnection } from '../store/mongoConnection.js';
import type { AppServices } from '../services/AppServices.js';
import { createAppServices } from './appServices.js';
import { createHttpApp, type HttpApp } from './app.js';
import type { Resolver } from '../services/webhooks/webhookSender.js';

export interface RunningService {
  url: string;
  port: number;
  services: AppServices;
  mongo: MongoConnection;
  /** The embedded store, when this process started one. */
  store: EmbeddedStore | null;
  app: HttpApp;
  /** Graceful stop: drain requests, close the driver, stop the embedded store. */
  stop(): Promise<void>;
}

/** How startService starts the service. */
export interface StartOptions {
  /** Emit the driver's command events (tests count queries with them). */
  monitorCommands?: boolean;
  /** How webhook receivers' names are resolved (the system resolver when absent). */
  webhookResolver?: Resolver;
}

/**
 * Starts the whole service: the store (embedded unless MONGODB_URI), the driver, indexes,
 * the services and the HTTP server. Used by `npm start` and by the API tests alike.
 */
export async function startService(config: AppConfig, logger: Logger = createLogger(config.LOG_LEVEL), options: StartOptions = {}): Promise<RunningService> {
  let store: EmbeddedStore | null = null;
  let uri = config.MONGODB_URI;
  if (!uri) {
    const dataDir = resolve(config.DATA_DIR, 'ferretdb');
    logger.info({ dataDir }, 'starting the embedded store (FerretDB, SQLite backend)');
    store = await startEmbeddedStore({ dataDir, log: (line) => logger.warn({ ferretdb: line }, 'embedded store'), buildOutput: (line) => logger.info(line) });
    uri = store.uri;
  }
  let mongo: MongoConnection | null = null;
  try {
    mongo = await connectMongo(uri, config.MONGODB_DB, { monitorCommands: options.monitorCommands ?? false });
    const services = createAppServices({ config, logger, metrics: createMetrics(), db: mongo.db, singleProcessStore: isEmbeddedStoreUri(uri), ...(options.webhookResolver ? { webhookResolver: options.webhookResolver } : {}) });
    await services.start();
    const connection = mongo;
    connection.superviseReconnects({
      intervalMs: 2000,
      failuresBeforeCheck: 3,
      onReconnect: () => logger.warn('the store answers new connections but not the driver pool: reconnecting the driver'),
    });
    const app = await createHttpApp({ services, storeHealthy: () => connection.ping() });
    const port = await app.listen(config.PORT, config.HOST);
    const url = `http://${config.HOST}:${port}`;
    let stopping: Promise<void> | null = null;
    const stop = () =>
      (stopping ??= (async () => {
        await app.stop();
        await services.stop();
        await connection.close().catch(() => undefined);
        await store?.stop();
      })());
    return { url, port, services, mongo: connection, store, app, stop };
  } catch (e) {
    await mongo?.close().catch(() => undefined);
    await store?.stop();
    throw e;
  }
}
