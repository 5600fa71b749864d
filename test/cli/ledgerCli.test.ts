// `npm run ledger:keygen`, `ledger:export` and `ledger:verify` as an operator and an auditor run
// them: each CLI a child process (through tsx, as the npm scripts do) against a log that a real
// sealer wrote into the real store with the key keygen printed; then the export file alone,
// as it is and tampered with.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parsePrivateKey } from '../../src/config/ledgerSigningKey.js';
import { CheckpointSigner } from '../../src/services/ledgerLog/checkpointSigner.js';
import { LedgerLogService } from '../../src/services/ledgerLog/LedgerLogService.js';
import { LedgerSealer } from '../../src/services/ledgerLog/LedgerSealer.js';
import { ensureIndexes } from '../../src/store/indexes.js';
import { LedgerLogStore } from '../../src/store/ledgerLog/LedgerLogStore.js';
import { PlanLedger } from '../../src/store/PlanLedger.js';
import { chainAppender } from '../support/ledgerAppends.js';
import { openTestDb, testStoreUri, type TestDb } from '../support/testDb.js';
import { memoryLogger } from '../store/storeFixtures.js';
import { runCli } from '../support/cliProcess.js';

const TENANT = 'cli-audit';

const run = (name: string, args: string[], env: Record<string, string> = {}) => runCli(name, args, { NODE_ENV: 'development', ...env });

describe('the ledger CLIs (child processes)', () => {
  let t: TestDb;
  let dir: string;
  let privateKey: string;
  let keyId: string;
  let publicKey: string;
  const file = (name: string) => join(dir, name);
  const verify = (...args: string[]) => run('ledgerVerify', ['--keys', file('keys.json'), ...args]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-cli-'));
    t = await openTestDb('ledgercli');
    await ensureIndexes(t.db);
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ledger:keygen prints a signing key on stdout and its key id and public key on stderr', async () => {
    const result = await run('ledgerKeygen', []);
    expect(result.code).toBe(0);
    privateKey = result.stdout.trim();
    expect(() => parsePrivateKey(privateKey)).not.toThrow();
    const match = /^keyId (\S+), public key (\S+)\n$/.exec(result.stderr);
    expect(match).not.toBeNull();
    [, keyId, publicKey] = match as unknown as [string, string, string];
    const signer = new CheckpointSigner(parsePrivateKey(privateKey));
    expect(signer.publicKeys()).toEqual([expect.objectContaining({ keyId, publicKey })]);
    writeFileSync(file('keys.json'), JSON.stringify([{ keyId, publicKey }]));
  }, 60_000);

  it('ledger:export writes the log a sealer signed with that key; ledger:verify accepts it, and a saved checkpoint of it', async () => {
    const store = new LedgerLogStore(t.db, { logger: memoryLogger() });
    const signer = new CheckpointSigner(parsePrivateKey(privateKey));
    const sealer = new LedgerSealer({ store, signer, logger: { info: () => undefined, warn: () => undefined, error: () => undefined }, intervalMs: 50 });
    const append = chainAppender(new PlanLedger(t.db, { logger: memoryLogger(), onAppended: (e) => sealer.notify(e) }));
    for (let i = 0; i < 5; i++) await append({ plan_id: `plan-${i % 2}`, tenant_id: TENANT, account_id: 'acct', event_type: 'PLAN_UPDATED', actor: 'ops', data: { i } });
    await sealer.sealAll();
    const service = new LedgerLogService({ store, signer });
    const saved = await service.checkpoint({ tenantId: TENANT } as never);
    expect(saved?.treeSize).toBe(5);
    writeFileSync(file('saved.json'), JSON.stringify({ data: { ledgerCheckpoint: { ...saved, timestamp: saved?.timestamp.toISOString() } } }));
    for (let i = 5; i < 9; i++) await append({ plan_id: 'plan-2', tenant_id: TENANT, account_id: 'acct', event_type: 'PLAN_UPDATED', actor: 'ops', data: { i } });
    await sealer.sealAll();

    const exported = await run('ledgerExport', ['--tenant', TENANT, '--out', file('log.jsonl')], { MONGODB_URI: testStoreUri(), MONGODB_DB: t.dbName });
    expect(exported).toMatchObject({ code: 0, stderr: '' });
    const rows = readFileSync(file('log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(rows.map((r) => r.type)).toEqual(['header', ...rows.filter((r) => r.type === 'checkpoint').map(() => 'checkpoint'), ...Array<string>(9).fill('leaf')]);

    const ok = await verify('--export', file('log.jsonl'), '--saved', file('saved.json'));
    expect(ok.stderr).toMatch(/^OK: 9 leaves, \d+ checkpoints verified\n$/);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, tenantId: TENANT, leaves: 9, firstBadLeafIndex: null, problems: [] });

    // Without the export: the saved checkpoint against the current one and the service's consistency proof.
    const current = await service.checkpoint({ tenantId: TENANT } as never);
    const proof = await service.consistencyProof({ tenantId: TENANT } as never, 5, current?.treeSize);
    writeFileSync(file('current.json'), JSON.stringify({ ...current, timestamp: current?.timestamp.toISOString() }));
    writeFileSync(file('proof.json'), JSON.stringify(proof));
    const consistent = await verify('--saved', file('saved.json'), '--checkpoint', file('current.json'), '--proof', file('proof.json'));
    expect(consistent).toMatchObject({ code: 0, stderr: 'OK: 0 leaves, 2 checkpoints verified\n' });
  }, 120_000);

  it('ledger:verify fails, naming what failed, for an edited entry, a cut log, a forged proof and another key', async () => {
    const lines = readFileSync(file('log.jsonl'), 'utf8').trim().split('\n');
    const editAt = lines.findIndex((l) => l.includes('"type":"leaf"')) + 6;
    const edited = lines.map((l, i) => (i === editAt ? l.replace('"actor":"ops"', '"actor":"mallory"') : l));
    expect(edited[editAt]).toContain('mallory');
    writeFileSync(file('edited.jsonl'), `${edited.join('\n')}\n`);
    const editedRun = await verify('--export', file('edited.jsonl'));
    expect(editedRun.code).toBe(1);
    expect(editedRun.stderr).toMatch(/^FAILED:\n- checkpoint 9: the leaves give root [0-9a-f]{64}, the checkpoint signed [0-9a-f]{64}/);
    expect(JSON.parse(editedRun.stdout)).toMatchObject({ ok: false, firstBadLeafIndex: 5 });

    writeFileSync(file('cut.jsonl'), `${lines.slice(0, -2).join('\n')}\n`);
    const cut = await verify('--export', file('cut.jsonl'), '--saved', file('saved.json'));
    expect(cut.code).toBe(1);
    expect(cut.stderr).toContain('checkpoint 9 covers more leaves than the export holds (7): the log was rolled back or cut');

    // Without its header line: not a complete export.
    writeFileSync(file('headless.jsonl'), `${lines.filter((l) => !l.includes('"type":"header"')).join('\n')}\n`);
    const headless = await verify('--export', file('headless.jsonl'));
    expect(headless.code).toBe(1);
    expect(headless.stderr).toContain('the export has no header line');

    // The latest checkpoint left out: its leaves are vouched for by nothing signed.
    const withoutLatest = lines.filter((l) => !(l.includes('"type":"checkpoint"') && l.includes('"treeSize":9')));
    expect(withoutLatest.length).toBe(lines.length - 1);
    writeFileSync(file('uncovered.jsonl'), `${withoutLatest.join('\n')}\n`);
    const uncovered = await verify('--export', file('uncovered.jsonl'));
    expect(uncovered.code).toBe(1);
    expect(uncovered.stderr).toMatch(/leaves \d+ to 8 are not covered by any valid signed checkpoint/);

    const proof = JSON.parse(readFileSync(file('proof.json'), 'utf8')) as { path: string[] };
    writeFileSync(file('forged.json'), JSON.stringify({ ...proof, path: proof.path.map((h) => h.replace(/^./, (c) => (c === '0' ? '1' : '0'))) }));
    const forged = await verify('--saved', file('saved.json'), '--checkpoint', file('current.json'), '--proof', file('forged.json'));
    expect(forged.code).toBe(1);
    expect(forged.stderr).toContain('checkpoint 5 is not a prefix of checkpoint 9: history was rewritten');

    writeFileSync(file('other-keys.json'), JSON.stringify([{ keyId: 'other', publicKey }]));
    const untrusted = await run('ledgerVerify', ['--keys', file('other-keys.json'), '--export', file('log.jsonl')]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toContain(`signed by key ${keyId}, which is not trusted`);
  }, 120_000);

  it('ledger:verify without what to check prints its usage, exit 2', async () => {
    const result = await verify();
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^usage: ledger:verify --keys keys.json/);
  }, 60_000);
});
