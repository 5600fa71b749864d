import type { Db } from 'mongodb';
import type { AppConfig } from '../config/env.js';
import type { AppMetrics } from '../observability/metrics.js';
import type { Logger } from '../observability/logger.js';
import { PlanTypeCatalog } from '../services/planTypes/PlanTypeCatalog.js';

/** The services resolvers call, built once per process. */
export interface AppServices {
  config: AppConfig;
  metrics: AppMetrics;
  logger: Logger;
  planTypes: PlanTypeCatalog;
  /** Start-up work (indexes, repair sweep) and its background timers. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface AppServiceDeps {
  config: AppConfig;
  metrics: AppMetrics;
  logger: Logger;
  db: Db;
}

export function createAppServices(deps: AppServiceDeps): AppServices {
  const { config, metrics, logger } = deps;
  return {
    config,
    metrics,
    logger,
    planTypes: new PlanTypeCatalog(),
    start: async () => undefined,
    stop: async () => undefined,
  };
}
