// `npm run propose:run` as an operator runs it: a child process (through tsx, as the npm script
// does) against a real service and store, from a JSON lines file and from a CSV file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runCli } from '../support/cliProcess.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { runItem } from '../support/proposalRuns.js';

const proposeRun = (args: string[], env: Record<string, string>) => runCli('proposeRun', args, env, 120_000);

describe('propose:run (child process against a real service)', () => {
  let server: TestServer;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    server = await startTestServer({ PROPOSAL_RUN_POLL_MS: '100' });
    dir = mkdtempSync(join(tmpdir(), 'propose-run-'));
    env = { RENEWAL_DEFENSE_URL: server.url.replace(/\/graphql$/, ''), RENEWAL_DEFENSE_TOKEN: await server.token('acme', ['plan-proposer'], 'olga') };
  }, 60_000);
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a JSON lines file of 1,203 accounts in chunks of 500 and prints the finished run with --json', async () => {
    const file = join(dir, 'accounts.jsonl');
    const lines = Array.from({ length: 1200 }, (_, i) => JSON.stringify(runItem(`cli-${i}`)));
    lines.push('', JSON.stringify(runItem('cli-7')), JSON.stringify(runItem('cli-8')), JSON.stringify(runItem('cli-9')));
    writeFileSync(file, `${lines.join('\n')}\n`);
    const result = await proposeRun([file, '--json', '--poll-ms', '200'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const run = JSON.parse(result.stdout.trim()) as { runId: string; status: string; counts: Record<string, number> };
    expect(run).toMatchObject({ status: 'COMPLETED', counts: { total: 1203, pending: 0, created: 1200, skippedDuplicate: 3 } });
    expect(await server.db.collection('plans').countDocuments({ account_id: { $regex: '^cli-' } })).toBe(1200);
  }, 180_000);

  it('reads CSV with a header (JSON cells for JSON fields), --dry-run, plain progress lines off a terminal', async () => {
    const file = join(dir, 'accounts.csv');
    const signals = JSON.stringify(runItem('x').signals).replace(/"/g, '""');
    writeFileSync(file, `accountId,planType,signals\ncsv-1,RENEWAL_DEFENSE,"${signals}"\ncsv-2,RENEWAL_DEFENSE,\ncli-0,RENEWAL_DEFENSE,\n`);
    const result = await proposeRun([file, '--dry-run', '--poll-ms', '100'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\(dry run\): uploading/);
    expect(result.stdout).toMatch(/3 items uploaded, started/);
    expect(result.stdout).toMatch(/COMPLETED: created 0, would create 2, open plan 1, duplicate 0, rejected 0, failed 0\n$/);
    expect(await server.db.collection('plans').countDocuments({ account_id: { $regex: '^csv-' } })).toBe(0);
  }, 120_000);

  it('a bad line fails before anything runs and names it; a bad item names its line in the file', async () => {
    const notJson = join(dir, 'broken.jsonl');
    writeFileSync(notJson, `${JSON.stringify(runItem('b-1'))}\n{oops\n`);
    const broken = await proposeRun([notJson], env);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('broken.jsonl:2: not JSON');
    const badItem = join(dir, 'bad-item.jsonl');
    writeFileSync(badItem, `${JSON.stringify(runItem('b-2'))}\n${JSON.stringify({ accountId: 'has space', planType: 'RENEWAL_DEFENSE' })}\n`);
    const refused = await proposeRun([badItem], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('BAD_USER_INPUT');
    expect(refused.stderr).toContain('item 2 of the file');
    const noToken = await proposeRun([badItem], { RENEWAL_DEFENSE_URL: env.RENEWAL_DEFENSE_URL! });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('RENEWAL_DEFENSE_TOKEN');
  }, 120_000);
});
