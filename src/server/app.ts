import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import express, { type NextFunction, type Request, type Response } from 'express';
import { AppError } from '../domain/errors.js';
import { bearerToken, createTokenVerifier } from '../auth/tokenVerifier.js';
import type { GraphQLContext } from '../graphql/context.js';
import { createErrorFormatter } from '../graphql/formatError.js';
import { createRequestLoaders } from '../graphql/loaders.js';
import { httpStatusPlugin } from '../graphql/httpStatusPlugin.js';
import { loadTypeDefs } from '../graphql/loadSchema.js';
import { observabilityPlugin } from '../graphql/observabilityPlugin.js';
import { pageBudgetPlugin } from '../graphql/pageBudgetPlugin.js';
import { buildResolvers } from '../resolvers/index.js';
import type { AppServices } from '../services/AppServices.js';
import { dashboardRouter } from './dashboardRoute.js';
import { RequestGate } from './requestGate.js';
import { transportErrorAnswer } from './transportErrors.js';
import { ideRouter } from './ideRoute.js';

/** Largest query document, in lexical tokens. */
const MAX_QUERY_TOKENS = 2000;
/** Most list items one operation may ask for (page sizes multiplied along each path). */
const MAX_LIST_ITEMS_PER_OPERATION = 10_000;
/** Most uses of fields whose cost grows with the tenant's data (or that call the model) in one operation. */
const MAX_EXPENSIVE_FIELDS_PER_OPERATION = 3;
/** GraphQL requests of one caller (tenant and subject) executing at once; more wait their turn. */
const MAX_REQUESTS_IN_FLIGHT_PER_CALLER = 64;
/** Pacing (server/requestGate.ts): what the caller's next request waits after an operation refused for its cost ... */
const REFUSED_OPERATION_CHARGE_MS = 250;
/** ... and per expensive read (verification, statistics over the tenant's data) an admitted operation ran. */
const EXPENSIVE_READ_CHARGE_MS = 25;
/** /health answers within this bound even when the store does not. */
const HEALTH_TIMEOUT_MS = 1000;

export interface HttpApp {
  httpServer: http.Server;
  apollo: ApolloServer<GraphQLContext>;
  /** Listens on host:port; resolves with the bound port. */
  listen(port: number, host: string): Promise<number>;
  /** Drains in-flight requests and stops accepting new ones. */
  stop(): Promise<void>;
}

export interface HttpAppOptions {
  services: AppServices;
  /** true when the store answers (for /health). */
  storeHealthy: () => Promise<boolean>;
}

/** Express + Apollo Server: /graphql, /health, /metrics. */
export async function createHttpApp({ services, storeHealthy }: HttpAppOptions): Promise<HttpApp> {
  const { config, logger, metrics } = services;
  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  // Bounded time per request: a stuck client or store cannot hold a socket forever.
  httpServer.requestTimeout = 30_000;
  httpServer.headersTimeout = 10_000;

  // Page sizes and expensive fields are bounded by pageBudgetPlugin (it sees variables and
  // their defaults, which a static cost rule does not); the token limit is graphql-js's own parse option, so an oversized document is a
  // 400 parse error rather than an exception inside Apollo's parsing hook.
  const armor = new ApolloArmor({
    maxDepth: { n: 10 },
    costLimit: { enabled: false },
    maxAliases: { n: 15 },
    maxDirectives: { n: 20 },
    maxTokens: { enabled: false },
    // Suggestions ("Did you mean …", enum values too) are removed in formatError outside development.
    blockFieldSuggestion: { enabled: false },
  });
  const protection = armor.protect();
  // graphql-armor is CommonJS and so is typed against Apollo's CJS declarations; the plugin
  // objects are the same at run time, only the two declaration trees differ.
  const armorPlugins = protection.plugins as unknown as ApolloServerPlugin<GraphQLContext>[];

  const apollo = new ApolloServer<GraphQLContext>({
    typeDefs: loadTypeDefs(),
    resolvers: buildResolvers() as never,
    introspection: !config.isProduction,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: config.isDevelopment,
    formatError: createErrorFormatter({ exposeInternals: config.isDevelopment, logger }),
    validationRules: [...protection.validationRules],
    allowBatchedHttpRequests: false,
    // main.ts owns SIGINT/SIGTERM (drain, close the driver, stop the embedded store); Apollo's
    // own handler would stop only itself and then re-raise the signal, killing the process
    // before the rest of the shutdown ran.
    stopOnTerminationSignals: false,
    parseOptions: { maxTokens: MAX_QUERY_TOKENS },
    plugins: [
      ...armorPlugins,
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // In development GET /graphql from a browser is the bundled IDE (ideRoute.ts), not Apollo's
      // CDN-loaded Sandbox.
      ApolloServerPluginLandingPageDisabled(),
      pageBudgetPlugin<GraphQLContext>({ maxItems: MAX_LIST_ITEMS_PER_OPERATION, maxExpensiveFields: MAX_EXPENSIVE_FIELDS_PER_OPERATION }, (ctx, cost) =>
        ctx.paceCaller?.(cost.refused ? REFUSED_OPERATION_CHARGE_MS : cost.expensiveReads * EXPENSIVE_READ_CHARGE_MS),
      ),
      // Status codes by response media type (GraphQL over HTTP; docs/api.md).
      httpStatusPlugin(),
      observabilityPlugin(metrics, logger),
    ],
  });
  await apollo.start();

  const verifyToken = createTokenVerifier(config);
  const gate = new RequestGate(MAX_REQUESTS_IN_FLIGHT_PER_CALLER);

  app.get('/health', async (_req, res) => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS);
    });
    const ok = await Promise.race([storeHealthy(), timedOut]);
    clearTimeout(timer);
    // 503 only when the store is down; a misconfigured model degrades the service (the rules
    // serve every proposal) but it still answers, so it stays 200 with the reason.
    const llm = services.llmStatus();
    const degraded = llm?.status === 'misconfigured';
    res.status(ok ? 200 : 503).json({
      status: ok ? (degraded ? 'degraded' : 'ok') : 'unavailable',
      ...(degraded ? { llm: { status: llm.status, model: llm.model, reason: llm.reason } } : {}),
    });
  });

  app.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });

  app.use('/dashboard', dashboardRouter());
  app.get('/', (_req, res) => res.redirect(302, '/dashboard/'));
  if (config.isDevelopment) app.use(ideRouter({ config }));

  app.use(
    '/graphql',
    express.json({ limit: config.MAX_BODY_BYTES }),
    // Writes are counted while served: a proposal run steps aside while any is in flight (reads,
    // such as a run's progress polled every second, do not hold it back).
    (req: Request, res: Response, next: NextFunction) => {
      const query = (req.body as { query?: unknown } | undefined)?.query;
      if (typeof query === 'string' && /\bmutation\b/.test(query)) {
        services.interactiveLoad.begin();
        res.once('close', () => services.interactiveLoad.end());
      }
      next();
    },
    expressMiddleware(apollo, {
      context: async ({ req, res }): Promise<GraphQLContext> => {
        const abandoned = new AbortController();
        res.once('close', () => {
          if (!res.writableFinished) abandoned.abort(new AppError('BAD_USER_INPUT', 'the client closed the request'));
        });
        const requestId = typeof req.headers['x-request-id'] === 'string' && /^[\w-]{1,64}$/.test(req.headers['x-request-id']) ? req.headers['x-request-id'] : randomUUID();
        const token = bearerToken(req.headers.authorization);
        let principal: GraphQLContext['principal'] = null;
        let authError: AppError | null = null;
        if (token) {
          try {
            principal = await verifyToken(token);
          } catch (e) {
            authError = e instanceof AppError ? e : new AppError('UNAUTHENTICATED', 'token is invalid');
          }
        } else if (req.headers.authorization) {
          authError = new AppError('UNAUTHENTICATED', 'Authorization header must be "Bearer <token>"');
        }
        const slot = await gate.admit(principal ? `${principal.tenantId.length}:${principal.tenantId}/${principal.sub}` : `address:${req.socket.remoteAddress ?? ''}`, res);
        return {
          requestId,
          logger: logger.child({ requestId }),
          principal,
          authError,
          services,
          loaders: createRequestLoaders(services, principal),
          signal: abandoned.signal,
          paceCaller: (ms) => slot.charge(ms),
        };
      },
    }),
  );

  // Errors before GraphQL (body parser: too large, malformed JSON, an encoding or charset it
  // does not take, ...) answer in GraphQL's error shape with a code, never Express's HTML page;
  // a client's mistake is logged as a client error, anything else as a server error.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const answer = transportErrorAnswer(err, config.MAX_BODY_BYTES);
    if (answer.code === 'INTERNAL_SERVER_ERROR') logger.error({ err, path: req.path }, 'unexpected error before GraphQL');
    else logger.info({ path: req.path, status: answer.status, outcome: answer.code, reason: answer.message }, 'client error before GraphQL');
    if (res.headersSent) return;
    const stack = answer.code === 'INTERNAL_SERVER_ERROR' && config.isDevelopment && err instanceof Error ? { stacktrace: err.stack?.split('\n') } : {};
    res.status(answer.status).json({ errors: [{ message: answer.message, extensions: { code: answer.code, ...stack } }] });
  });

  return {
    httpServer,
    apollo,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          httpServer.off('error', reject);
          const address = httpServer.address();
          resolve(typeof address === 'object' && address ? address.port : port);
        });
      }),
    stop: () => apollo.stop(),
  };
}
