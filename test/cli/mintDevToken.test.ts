// `npm run token` as a person runs it: the CLI as a child process (through tsx, as the npm
// script does), its exit codes, what it prints, and that the token it mints is one the API's
// own verifier accepts.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { parseDevTokenRequest } from '../../src/auth/devToken.js';
import { createTokenVerifier } from '../../src/auth/tokenVerifier.js';
import { DEV_JWT_SECRET } from '../../src/config/env.js';
import { findProjectRoot } from '../../src/config/projectRoot.js';

const ROOT = findProjectRoot();
const TSX = resolve(ROOT, 'node_modules', '.bin', 'tsx');
const CLI = resolve(ROOT, 'src', 'cli', 'mintDevToken.ts');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  // A clean environment: the CLI must not pick up a JWT_SECRET or NODE_ENV from the test runner.
  const base = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', NODE_ENV: 'development' };
  try {
    const { stdout, stderr } = await promisify(execFile)(TSX, [CLI, ...args], { cwd: ROOT, env: { ...base, ...env }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

describe('npm run token (the CLI as a child process)', () => {
  it('mints a token the API verifier accepts, with the asked tenant, subject and roles', async () => {
    const result = await runCli(['--tenant', 't1', '--roles', 'plan-proposer,plan-approver', '--sub', 'alice']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const token = result.stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    const principal = await createTokenVerifier({ JWT_SECRET: DEV_JWT_SECRET, JWT_JWKS_URL: undefined, JWT_ISSUER: undefined, JWT_AUDIENCE: undefined })(token);
    expect(principal.tenantId).toBe('t1');
    expect(principal.sub).toBe('alice');
    expect([...principal.roles].sort()).toEqual(['plan-approver', 'plan-proposer', 'plan-viewer']);
  });

  it('signs with JWT_SECRET when it is set', async () => {
    const secret = 'cli-test-secret-0123456789abcdef0123456789';
    const result = await runCli(['--tenant', 't2'], { JWT_SECRET: secret });
    expect(result.code).toBe(0);
    const principal = await createTokenVerifier({ JWT_SECRET: secret, JWT_JWKS_URL: undefined, JWT_ISSUER: undefined, JWT_AUDIENCE: undefined })(result.stdout.trim());
    expect(principal).toMatchObject({ tenantId: 't2', sub: 'dev-user' });
    expect([...principal.roles]).toEqual(['plan-viewer']);
  });

  it('--help prints the flags and the valid roles, exit 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--tenant <id>');
    expect(result.stdout).toContain('plan-viewer, plan-proposer, plan-approver, plan-admin');
    expect((await runCli(['-h'])).stdout).toBe(result.stdout);
  });

  it('a typo in a role is refused (exit 2), naming the valid roles and the closest one; nothing on stdout', async () => {
    const result = await runCli(['--tenant', 't1', '--roles', 'plan-aprover']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('unknown role "plan-aprover" (did you mean plan-approver?)');
    expect(result.stderr).toContain('valid roles are plan-viewer, plan-proposer, plan-approver, plan-admin');
  });

  it('a missing tenant, a bad subject, a bad ttl and an unknown flag are usage errors (exit 2)', async () => {
    const missing = await runCli(['--roles', 'plan-viewer']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--tenant: is required');
    const bad = await runCli(['--tenant', 'acme corp', '--sub', '', '--ttl', '1h']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--tenant: printable ASCII without spaces');
    expect(bad.stderr).toContain('--sub: is required');
    expect(bad.stderr).toContain('--ttl: must be a whole number of seconds');
    const unknown = await runCli(['--tenant', 't1', '--role', 'plan-viewer']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option '--role'/);
    expect(unknown.stderr).toContain('npm run token -- --help');
  });

  it('refuses to mint in production (exit 1)', async () => {
    const result = await runCli(['--tenant', 't1'], { NODE_ENV: 'production', JWT_SECRET: 'a'.repeat(40) });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('refuses to mint tokens when NODE_ENV=production');
  });
});

describe('parseDevTokenRequest', () => {
  const valid = { tenant: 't1', roles: 'plan-viewer', sub: 'alice', ttlSeconds: 60 };

  it('accepts the roles as a list or an array, trimmed and without repeats', () => {
    expect(parseDevTokenRequest({ ...valid, roles: ' plan-proposer, plan-approver ,plan-proposer' })).toEqual({
      ok: true,
      request: { tenantId: 't1', sub: 'alice', roles: ['plan-proposer', 'plan-approver'], ttlSeconds: 60 },
    });
    expect(parseDevTokenRequest({ ...valid, roles: ['plan-viewer'] })).toMatchObject({ ok: true, request: { roles: ['plan-viewer'] } });
  });

  it('reports every problem at once', () => {
    const result = parseDevTokenRequest({ tenant: 'x'.repeat(129), roles: 'admin,,', sub: 42, ttlSeconds: 30 * 24 * 3600 + 1 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      'tenant: must be at most 128 characters',
      'sub: must be a string',
      'roles: unknown role "admin"; valid roles are plan-viewer, plan-proposer, plan-approver, plan-admin',
      'ttl: must be a whole number of seconds from 1 to 2592000 (30 days)',
    ]);
  });

  it('needs at least one role, given as strings', () => {
    expect(parseDevTokenRequest({ ...valid, roles: ' , ' })).toEqual({ ok: false, problems: ['roles: name at least one of plan-viewer, plan-proposer, plan-approver, plan-admin'] });
    expect(parseDevTokenRequest({ ...valid, roles: [1] })).toEqual({ ok: false, problems: ['roles: must be a comma-separated list of plan-viewer, plan-proposer, plan-approver, plan-admin'] });
    expect(parseDevTokenRequest({ ...valid, roles: 'PLAN-VIEWR' })).toMatchObject({ ok: false, problems: [expect.stringContaining('did you mean plan-viewer?')] });
  });
});
