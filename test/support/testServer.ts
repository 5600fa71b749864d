import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { loadConfig, type AppConfig } from '../../src/config/env.js';
import { mintDevToken } from '../../src/auth/devToken.js';
import { createLogger } from '../../src/observability/logger.js';
import { startService, type RunningService } from '../../src/server/runtime.js';
import { testStoreUri } from './testDb.js';

// The tests' one in-process service starter and one GraphQL client (raw HTTP, never throws).

export const TEST_JWT_SECRET = 'test-secret-0123456789abcdef0123456789abcdef';

export interface GqlError {
  message: string;
  extensions?: { code?: string; [k: string]: unknown };
  path?: unknown[];
}

export interface RawResponse<T = Record<string, unknown>> {
  /** HTTP status; 0 when the request did not get an answer (network error or deadline). */
  status: number;
  data?: T | null;
  errors?: GqlError[];
  /** The raw body text. */
  text: string;
  ms: number;
  /** Set when no HTTP answer came: the error's name and message. */
  networkError?: string;
  headers?: Headers;
}

export interface PostOptions {
  token?: string | null;
  headers?: Record<string, string>;
  /** A raw body instead of JSON.stringify({ query, variables }). */
  rawBody?: string;
  timeoutMs?: number;
  method?: string;
}

/** POSTs a GraphQL request and never throws: network failures come back as status 0. */
export async function postGql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: PostOptions = {},
): Promise<RawResponse<T>> {
  const started = performance.now();
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...(options.headers ?? {}) };
  const isGet = options.method === 'GET';
  const target = isGet ? `${url}/graphql?${new URLSearchParams({ query, variables: JSON.stringify(variables) }).toString()}` : `${url}/graphql`;
  try {
    const res = await fetch(target, {
      method: options.method ?? 'POST',
      headers,
      body: isGet ? undefined : (options.rawBody ?? JSON.stringify({ query, variables })),
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    let body: { data?: T | null; errors?: GqlError[] } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = {};
    }
    return { status: res.status, ...body, text, ms: performance.now() - started, headers: res.headers };
  } catch (e) {
    const err = e as Error;
    return { status: 0, text: '', ms: performance.now() - started, networkError: `${err.name}: ${err.message}` };
  }
}

/** What a test server's gql answers. */
export type GraphQLResponse<T = Record<string, unknown>> = RawResponse<T>;

export interface TestServer {
  url: string;
  running: RunningService;
  config: AppConfig;
  /** Direct driver access to the service's database, for assertions (never for the code under test). */
  db: Db;
  client: MongoClient;
  token(tenant: string, roles: string[], sub?: string): Promise<string>;
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token?: string | null, options?: PostOptions): Promise<RawResponse<T>>;
  /** Stops the service; drops its database unless keepDb. Twice is harmless. */
  close(options?: { keepDb?: boolean }): Promise<void>;
}

export interface TestServerOptions {
  /** The store (default: the run's). */
  uri?: string;
  /** Command monitoring, so tests can count the queries the service sends (e.g. no N+1); default on. */
  monitorCommands?: boolean;
  /** Prefix of the fresh database's name (env.MONGODB_DB names one outright). */
  dbPrefix?: string;
}

/** Starts the real service on a free port against the store, in a database of its own. */
export async function startTestServer(env: Record<string, string> = {}, options: TestServerOptions = {}): Promise<TestServer> {
  const uri = options.uri ?? testStoreUri();
  const dbName = env.MONGODB_DB ?? `${options.dbPrefix ?? 'api'}_${randomBytes(6).toString('hex')}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    LOG_LEVEL: 'silent',
    MONGODB_URI: uri,
    MONGODB_DB: dbName,
    JWT_SECRET: TEST_JWT_SECRET,
    ...env,
  });
  const running = await startService(config, createLogger(config.LOG_LEVEL), { monitorCommands: options.monitorCommands ?? true });
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const db = client.db(dbName);
  let closed = false;
  return {
    url: running.url,
    running,
    config,
    db,
    client,
    token: (tenant, roles, sub = 'tester') => mintDevToken({ secret: TEST_JWT_SECRET, tenantId: tenant, roles, sub, ttlSeconds: 600 }),
    gql: (query, variables = {}, token = null, postOptions = {}) => postGql(running.url, query, variables, { ...postOptions, token }),
    close: async ({ keepDb = false } = {}) => {
      if (closed) return;
      closed = true;
      await running.stop();
      if (!keepDb) await db.dropDatabase().catch(() => undefined);
      await client.close().catch(() => undefined);
    },
  };
}
