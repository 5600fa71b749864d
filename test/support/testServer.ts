import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { loadConfig, type AppConfig } from '../../src/config/env.js';
import { mintDevToken } from '../../src/auth/devToken.js';
import { createLogger } from '../../src/observability/logger.js';
import { startService, type RunningService } from '../../src/server/runtime.js';
import { testStoreUri } from './testDb.js';

export const TEST_JWT_SECRET = 'test-secret-0123456789abcdef0123456789abcdef';

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; [k: string]: unknown }; path?: unknown[] }[];
}

export interface TestServer {
  url: string;
  running: RunningService;
  config: AppConfig;
  /** Direct driver access to the service's database, for assertions (never for the code under test). */
  db: Db;
  token(tenant: string, roles: string[], sub?: string): Promise<string>;
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token?: string | null, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

/** Starts the real service on a free port against the run's store, in a database of its own. */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dbName = `api_${randomBytes(6).toString('hex')}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    LOG_LEVEL: 'silent',
    MONGODB_URI: testStoreUri(),
    MONGODB_DB: dbName,
    JWT_SECRET: TEST_JWT_SECRET,
    ...env,
  });
  // Command monitoring lets tests count the queries the service sends (e.g. no N+1).
  const running = await startService(config, createLogger(config.LOG_LEVEL), { monitorCommands: true });
  const client = new MongoClient(testStoreUri());
  await client.connect();
  const db = client.db(dbName);
  const url = running.url;
  return {
    url,
    running,
    config,
    db,
    token: (tenant, roles, sub = 'tester') => mintDevToken({ secret: TEST_JWT_SECRET, tenantId: tenant, roles, sub, ttlSeconds: 600 }),
    gql: async (query, variables, token, headers = {}) => {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as Omit<GraphQLResponse, 'status'>;
      return { status: res.status, ...body } as never;
    },
    close: async () => {
      await running.stop();
      await db.dropDatabase().catch(() => undefined);
      await client.close();
    },
  };
}
