// npm run token -- --tenant t1 --roles plan-proposer,plan-approver [--sub alice] [--ttl 3600]
// Exit codes: 0 a token on stdout, 2 a usage mistake (bad or missing flag), 1 the service's
// configuration does not allow minting (production, JWKS).
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/env.js';
import { DEV_TOKEN_MAX_TTL_SECONDS, mintDevToken, parseDevTokenRequest } from '../auth/devToken.js';
import { PLAN_ROLES } from '../auth/roles.js';

const USAGE = `Prints a signed development JWT for the API (Authorization: Bearer <token>).

usage: npm run -s token -- --tenant <id> [--roles <list>] [--sub <name>] [--ttl <seconds>]

  --tenant <id>     the tenant_id claim (required): 1-128 printable ASCII characters, no spaces
  --roles <list>    comma-separated, from: ${PLAN_ROLES.join(', ')} (default plan-viewer)
                    plan-proposer and plan-approver include plan-viewer
  --sub <name>      the sub claim, recorded as the actor of every ledger entry (default dev-user)
  --ttl <seconds>   lifetime, 1 to ${DEV_TOKEN_MAX_TTL_SECONDS} (default 3600)
  -h, --help        this text

Signs HS256 with JWT_SECRET (a fixed development secret when unset); refuses NODE_ENV=production.
example: TOKEN=$(npm run -s token -- --tenant t1 --roles plan-proposer,plan-approver --sub alice)
`;

class UsageError extends Error {}

async function main(): Promise<void> {
  let values: { tenant?: string; roles?: string; sub?: string; ttl?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        tenant: { type: 'string' },
        roles: { type: 'string', default: 'plan-viewer' },
        sub: { type: 'string', default: 'dev-user' },
        ttl: { type: 'string', default: '3600' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const ttl = values.ttl !== undefined && /^\d+$/.test(values.ttl) ? Number(values.ttl) : Number.NaN;
  const parsed = parseDevTokenRequest({ tenant: values.tenant, roles: values.roles, sub: values.sub, ttlSeconds: ttl });
  if (!parsed.ok) throw new UsageError(parsed.problems.map((p) => `--${p}`).join('\n'));

  // Before the rest of the configuration: production needs keys this command has no use for.
  if (process.env.NODE_ENV === 'production') throw new ConfigError('npm run token refuses to mint tokens when NODE_ENV=production');
  const config = loadConfig();
  if (!config.JWT_SECRET) throw new ConfigError('npm run token needs JWT_SECRET (HS256); the service is set up for JWKS');
  const { request } = parsed;
  const token = await mintDevToken({
    secret: config.JWT_SECRET,
    tenantId: request.tenantId,
    roles: request.roles,
    sub: request.sub,
    ttlSeconds: request.ttlSeconds,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
  });
  process.stdout.write(`${token}\n`);
}

main().catch((e: unknown) => {
  if (e instanceof UsageError) {
    process.stderr.write(`${e.message}\nrun \`npm run token -- --help\` for the flags\n`);
    process.exit(2);
  }
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
