import { z } from 'zod';
import { parsePrivateKey, parsePublicKey } from './ledgerSigningKey.js';
import { parseWebhookSecretKey } from './webhookSecretKey.js';

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const EnvSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    HOST: z.string().default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    MONGODB_URI: optionalString,
    MONGODB_DB: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/, 'letters, digits, _ and - only').default('renewal_defense'),
    /** Where the embedded store keeps its files when MONGODB_URI is unset. */
    DATA_DIR: z.string().default('./.data'),
    JWT_SECRET: optionalString,
    JWT_JWKS_URL: optionalString.pipe(z.string().url().optional()),
    JWT_ISSUER: optionalString,
    JWT_AUDIENCE: optionalString,
    GEMINI_API_KEY: optionalString,
    GEMINI_MODEL: z.string().min(1).default('gemini-flash-latest'),
    GEMINI_BASE_URL: optionalString.pipe(z.string().url().optional()),
    LLM_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(8000),
    PROPOSAL_LLM_FALLBACK: z.enum(['rules', 'error']).default('rules'),
    /** Model calls this process starts a minute at most (all of them: interactive and runs'); a 429 backs off. */
    GEMINI_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(500),
    /** off: this instance works no proposal runs (others sharing the store do). */
    PROPOSAL_RUN_WORKER: z.enum(['on', 'off']).default('on'),
    /** Run items this process proposes at once, over all its runs. */
    PROPOSAL_RUN_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
    /** How long an instance's hold on a run lasts unless renewed (how long a dead instance's run waits). */
    PROPOSAL_RUN_LEASE_MS: z.coerce.number().int().min(500).max(600_000).default(30_000),
    /** How often an instance looks for RUNNING runs nobody works. */
    PROPOSAL_RUN_POLL_MS: z.coerce.number().int().min(50).max(600_000).default(2000),
    /** No longer read: a tenant's gate policy is part of its playbook. Set, it stops the start (so no policy is lost silently). */
    TENANT_GATE_POLICIES: optionalString,
    /** Largest accepted request body. */
    MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(10_000_000).default(256 * 1024),
    /** Ed25519 private key (base64 PKCS#8 DER) that signs ledger checkpoints; required in production. */
    LEDGER_SIGNING_KEY: optionalString,
    /** Comma-separated base64 raw Ed25519 public keys of rotated-out signing keys (still verify old checkpoints). */
    LEDGER_PREVIOUS_PUBLIC_KEYS: optionalString,
    /** How often the sealer appends new entries to the log and signs a checkpoint (an entry is sealed within 5 s). */
    LEDGER_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().min(50).max(4000).default(1000),
    /** off: this instance does not seal (another one does; benchmarks' baseline). */
    LEDGER_SEALER: z.enum(['on', 'off']).default('on'),
    /** off: this instance neither backfills nor tallies the kept plan counts (another one does). */
    PLAN_COUNTS_TALLY: z.enum(['on', 'off']).default('on'),
    /** off: this instance does not verify tenants' logs in the background (another one does). */
    LEDGER_VERIFIER: z.enum(['on', 'off']).default('on'),
    /** Leaves per second the background verifier recomputes at most (it also stays busy at most a quarter of the time). */
    LEDGER_VERIFY_LEAVES_PER_SECOND: z.coerce.number().int().min(10).max(1_000_000).default(2000),
    /** Leaves beyond the verified prefix one verifyLedgerCheckpoint request recomputes at most; further is VERIFICATION_PENDING. */
    LEDGER_VERIFY_REQUEST_MAX_LEAVES: z.coerce.number().int().min(0).max(1_000_000).default(1024),
    /** Base64 of 32 random bytes: encrypts webhook endpoint secrets at rest (AES-256-GCM); required in production. */
    WEBHOOK_SECRET_KEY: optionalString,
    /** Development and tests only: endpoints on loopback (http://127.0.0.1:…) are allowed. Refused in production. */
    WEBHOOK_ALLOW_LOOPBACK: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
    /** How long the previous secret still signs after a rotation (24 h). */
    WEBHOOK_ROTATION_OVERLAP_MS: z.coerce.number().int().min(0).max(30 * 86_400_000).default(86_400_000),
    /** How long a failed delivery is retried before it is FAILED (3 days); an endpoint failing this long is disabled. */
    WEBHOOK_RETRY_FOR_MS: z.coerce.number().int().min(100).max(30 * 86_400_000).default(3 * 86_400_000),
    /** The wait before the first retry; later ones double it (with jitter), at most an hour. */
    WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(10_000),
    /** One delivery attempt's deadline (connect, send, response head and capped body). */
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
    /** Deliveries in flight to one endpoint from this instance at most. */
    WEBHOOK_ENDPOINT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
    /** How often due retries and the tenants' durable cursors are looked at. */
    WEBHOOK_POLL_INTERVAL_MS: z.coerce.number().int().min(20).max(60_000).default(1000),
    /** off: this instance sends no webhooks (another one does). */
    WEBHOOK_DISPATCHER: z.enum(['on', 'off']).default('on'),
  })
  .superRefine((env, ctx) => {
    // Outside production, tokens are checked against a secret printed in this file: on a
    // reachable address anyone could mint them. Loopback keeps that secret to this machine.
    if (env.NODE_ENV !== 'production' && !env.JWT_SECRET && !env.JWT_JWKS_URL && !isLoopbackHost(env.HOST)) {
      ctx.addIssue({
        code: 'custom',
        path: ['HOST'],
        message: `${env.HOST} is not a loopback address, and tokens would be checked against the public development secret: set NODE_ENV=production (with JWT_SECRET or JWT_JWKS_URL), or JWT_SECRET / JWT_JWKS_URL, or HOST=127.0.0.1`,
      });
    }
    if (env.TENANT_GATE_POLICIES) {
      ctx.addIssue({
        code: 'custom',
        path: ['TENANT_GATE_POLICIES'],
        message: "is no longer read: a tenant's gate policy is part of its playbook (publishPlanTypeConfig; docs/playbooks.md)",
      });
    }
    if (env.NODE_ENV === 'production' && !env.JWT_SECRET && !env.JWT_JWKS_URL) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'is required when NODE_ENV=production (or set JWT_JWKS_URL)' });
    }
    if (env.JWT_SECRET && env.JWT_SECRET.length < 32 && env.NODE_ENV === 'production') {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'must be at least 32 characters in production' });
    }
    if (env.NODE_ENV === 'production' && !env.LEDGER_SIGNING_KEY) {
      ctx.addIssue({ code: 'custom', path: ['LEDGER_SIGNING_KEY'], message: 'is required when NODE_ENV=production (npm run ledger:keygen prints one)' });
    }
    if (env.LEDGER_SIGNING_KEY) {
      try {
        parsePrivateKey(env.LEDGER_SIGNING_KEY);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: ['LEDGER_SIGNING_KEY'], message: (e as Error).message });
      }
    }
    if (env.NODE_ENV === 'production' && !env.WEBHOOK_SECRET_KEY) {
      ctx.addIssue({ code: 'custom', path: ['WEBHOOK_SECRET_KEY'], message: 'is required when NODE_ENV=production (base64 of 32 random bytes: openssl rand -base64 32)' });
    }
    if (env.WEBHOOK_SECRET_KEY) {
      try {
        parseWebhookSecretKey(env.WEBHOOK_SECRET_KEY);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: ['WEBHOOK_SECRET_KEY'], message: (e as Error).message });
      }
    }
    if (env.NODE_ENV === 'production' && env.WEBHOOK_ALLOW_LOOPBACK) {
      ctx.addIssue({ code: 'custom', path: ['WEBHOOK_ALLOW_LOOPBACK'], message: 'must not be true when NODE_ENV=production' });
    }
    for (const key of (env.LEDGER_PREVIOUS_PUBLIC_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean)) {
      try {
        parsePublicKey(key);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: ['LEDGER_PREVIOUS_PUBLIC_KEYS'], message: `${key.slice(0, 12)}…: ${(e as Error).message}` });
      }
    }
  });

/** Loopback names and addresses: a service bound to one is reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

export type RawEnv = z.infer<typeof EnvSchema>;

export interface AppConfig extends Omit<RawEnv, 'JWT_SECRET' | 'TENANT_GATE_POLICIES'> {
  JWT_SECRET: string | undefined;
  isProduction: boolean;
  isDevelopment: boolean;
}

/** The development signing secret: used only outside production when JWT_SECRET is unset. */
export const DEV_JWT_SECRET = 'dev-only-secret-change-me-0123456789abcdef';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once. Throws ConfigError with one line per problem. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || 'env'}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  const env = parsed.data;
  // A tenant's gate policy is part of its playbook (docs/playbooks.md), not of the environment.
  const { TENANT_GATE_POLICIES: _unread, ...rest } = env;
  return {
    ...rest,
    JWT_SECRET: env.JWT_SECRET ?? (env.NODE_ENV === 'production' || env.JWT_JWKS_URL ? undefined : DEV_JWT_SECRET),
    isProduction: env.NODE_ENV === 'production',
    isDevelopment: env.NODE_ENV === 'development',
  };
}
