import { ConfigError, loadConfig, type AppConfig } from './config/env.js';
import { createLogger } from './observability/logger.js';
import { startService } from './server/runtime.js';

let config: AppConfig;
try {
  config = loadConfig();
} catch (e) {
  // One clear line, no stack: configuration is the operator's to fix.
  process.stderr.write(`${e instanceof ConfigError ? e.message : String(e)}\n`);
  process.exit(1);
}

const logger = createLogger(config.LOG_LEVEL, { buffered: true });

try {
  const running = await startService(config, logger);
  const urls = { url: `${running.url}/graphql`, ide: config.isDevelopment ? `${running.url}/graphql` : undefined, dashboard: `${running.url}/dashboard/` };
  const ide = urls.ide ? ` · IDE ${urls.ide} (in a browser)` : '';
  logger.info({ ...urls, store: running.store ? 'embedded' : 'MONGODB_URI', env: config.NODE_ENV }, `renewal-defense service ready: API ${urls.url}${ide} · dashboard ${urls.dashboard}`);
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down: draining requests');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, 20_000);
    force.unref();
    running
      .stop()
      .then(() => {
        logger.info('stopped cleanly');
        process.exit(0);
      })
      .catch((e: unknown) => {
        logger.error({ err: e }, 'error during shutdown');
        process.exit(1);
      });
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
} catch (e) {
  logger.fatal({ err: e }, 'could not start');
  process.exit(1);
}
