// Start-up as a person meets it: the build skips the steps whose inputs did not change, and the
// service's ready line names the API, the IDE and the dashboard, which answer at those URLs.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { findProjectRoot } from '../../src/config/projectRoot.js';
import { spawnServiceProcess, type ServiceProcess } from '../support/reliability.js';
import { testStoreUri } from '../support/testDb.js';

const ROOT = findProjectRoot();

describe('scripts/build.mjs skips what is up to date', () => {
  let stamps: string;
  beforeAll(async () => {
    stamps = await mkdtemp(join(tmpdir(), 'build-stamps-'));
  });
  afterAll(async () => {
    await rm(stamps, { recursive: true, force: true });
  });
  // The IDE step: the cheapest one that writes a real output.
  const build = async () => (await promisify(execFile)(process.execPath, ['scripts/build.mjs', '--only', 'ide'], { cwd: ROOT, env: { ...process.env, BUILD_STAMPS_DIR: stamps }, timeout: 120_000 })).stdout;

  it('runs a step without a stamp, skips it with a matching stamp, reruns it when the stamp differs', async () => {
    expect(await build()).toMatch(/build: ide \d+\.\d s/);
    expect(await build()).toMatch(/build: ide up to date/);
    await writeFile(join(stamps, 'ide'), 'inputs of another day');
    expect(await build()).toMatch(/build: ide \d+\.\d s/);
    expect(await build()).toMatch(/build: ide up to date/);
  });
});

describe('the ready line', () => {
  let service: ServiceProcess;
  beforeAll(async () => {
    service = await spawnServiceProcess({ NODE_ENV: 'development', MONGODB_URI: testStoreUri(), MONGODB_DB: `startup_${process.pid}` });
  });
  afterAll(async () => {
    service.kill('SIGINT');
    await service.exited;
  });

  it('names the API, the IDE and the dashboard, and each answers there', async () => {
    const line = service.output.find((l) => l.includes('renewal-defense service ready'));
    const ready = JSON.parse(line ?? '{}') as { msg: string; url: string; ide: string; dashboard: string };
    expect(ready.url).toBe(`${service.url}/graphql`);
    expect(ready.ide).toBe(`${service.url}/graphql`);
    expect(ready.dashboard).toBe(`${service.url}/dashboard/`);
    expect(ready.msg).toBe(`renewal-defense service ready: API ${service.url}/graphql · IDE ${service.url}/graphql (in a browser) · dashboard ${service.url}/dashboard/`);
    const api = await fetch(ready.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(await api.json()).toEqual({ data: { __typename: 'Query' } });
    expect((await fetch(`${service.url}/`, { redirect: 'manual' })).headers.get('location')).toBe('/dashboard/');
  });
});

describe('a reachable address with development defaults', () => {
  it('refuses to start, naming what to set', async () => {
    // The environment of a person who only set HOST: no NODE_ENV, no JWT_SECRET.
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '0.0.0.0', PORT: '0', MONGODB_URI: testStoreUri() },
      timeout: 60_000,
    });
    const failure = (await run.then(() => null, (e: unknown) => e)) as { code?: number; stderr?: string } | null;
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/HOST: 0\.0\.0\.0 is not a loopback address.*set NODE_ENV=production/);
  }, 60_000);
});
