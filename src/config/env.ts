import { z } from 'zod';
import type { TenantGatePolicy } from '../domain/policyGate/gateTypes.js';
import { parsePrivateKey, parsePublicKey } from './ledgerSigningKey.js';

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const TenantGatePolicySchema = z
  .object({
    human_touch_action_types: z.array(z.string()).optional(),
    elevated_risk_action_types: z.array(z.string()).optional(),
    elevated_approver_role: z.string().optional(),
  })
  .strict();

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
    /** JSON object: tenant id -> gate policy rules (all off when unset). */
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

export interface AppConfig extends Omit<RawEnv, 'TENANT_GATE_POLICIES' | 'JWT_SECRET'> {
  JWT_SECRET: string | undefined;
  tenantGatePolicies: Readonly<Record<string, TenantGatePolicy>>;
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
  let tenantGatePolicies: Record<string, TenantGatePolicy> = {};
  if (env.TENANT_GATE_POLICIES) {
    let json: unknown;
    try {
      json = JSON.parse(env.TENANT_GATE_POLICIES);
    } catch {
      throw new ConfigError('invalid configuration: TENANT_GATE_POLICIES: not valid JSON');
    }
    const policies = z.record(z.string(), TenantGatePolicySchema).safeParse(json);
    if (!policies.success) {
      throw new ConfigError(`invalid configuration: TENANT_GATE_POLICIES: ${policies.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    tenantGatePolicies = policies.data;
  }
  const { TENANT_GATE_POLICIES: _ignored, ...rest } = env;
  return {
    ...rest,
    JWT_SECRET: env.JWT_SECRET ?? (env.NODE_ENV === 'production' || env.JWT_JWKS_URL ? undefined : DEV_JWT_SECRET),
    tenantGatePolicies,
    isProduction: env.NODE_ENV === 'production',
    isDevelopment: env.NODE_ENV === 'development',
  };
}
