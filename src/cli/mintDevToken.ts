// npm run token -- --tenant t1 --roles plan-proposer,plan-approver [--sub alice] [--ttl 3600]
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/env.js';
import { mintDevToken } from '../auth/devToken.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      tenant: { type: 'string' },
      roles: { type: 'string', default: 'plan-viewer' },
      sub: { type: 'string', default: 'dev-user' },
      ttl: { type: 'string', default: '3600' },
    },
  });
  const config = loadConfig();
  if (config.isProduction) throw new ConfigError('npm run token refuses to mint tokens when NODE_ENV=production');
  if (!config.JWT_SECRET) throw new ConfigError('npm run token needs JWT_SECRET (HS256); the service is set up for JWKS');
  if (!values.tenant) throw new ConfigError('usage: npm run token -- --tenant <id> --roles plan-viewer,plan-proposer,plan-approver [--sub <name>] [--ttl <seconds>]');
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 30 * 24 * 3600) throw new ConfigError('--ttl must be a whole number of seconds, at most 30 days');
  const token = await mintDevToken({
    secret: config.JWT_SECRET,
    tenantId: values.tenant,
    roles: values.roles.split(',').map((r) => r.trim()).filter(Boolean),
    sub: values.sub,
    ttlSeconds: ttl,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
  });
  process.stdout.write(`${token}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
