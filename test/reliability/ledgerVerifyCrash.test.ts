import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import { generateSigningKey } from '../../src/services/ledgerLog/checkpointSigner.js';
import { LEDGER_LOG_COLLECTIONS } from '../../src/store/ledgerLog/ledgerLogIndexes.js';
import { PlanLedger } from '../../src/store/PlanLedger.js';
import { chainAppender } from '../support/ledgerAppends.js';
import { openTestDb, type TestDb } from '../support/testDb.js';
import { Figures, postGql, spawnServiceProcess, tokenFor, waitUntil, type ServiceProcess } from '../support/reliability.js';

/**
 * SIGKILL during background verification: a tenant's log of 3,000 leaves (checkpoints at
 * 1,000, 2,000, 3,000, written by service processes whose verifier is off) is verified by a
 * service process's background verifier, paced slowly; the process is killed with SIGKILL
 * once the verified prefix reached the first checkpoint. A new process takes the verifier's
 * lease once it expires and goes on from the recorded prefix (it recomputes at most the
 * 2,000 leaves left, not the 3,000), and then the latest checkpoint verifies without any
 * leaf recomputed by a request.
 */

const TENANT = 'verifycrash';
const PER_ROUND = 1000;
const figures = new Figures('ledger verification crash (SIGKILL mid-pass)');

describe('reliability: SIGKILL while verifying in the background', () => {
  const key = generateSigningKey();
  let testDb: TestDb | undefined;
  let db: Db;
  let proc: ServiceProcess | null = null;

  const start = (env: Record<string, string>) => spawnServiceProcess({ MONGODB_URI: testDb!.uri, MONGODB_DB: testDb!.dbName, LEDGER_SIGNING_KEY: key, LEDGER_CHECKPOINT_INTERVAL_MS: '150', ...env });
  const latestCheckpoint = async () => ((await db.collection(LEDGER_LOG_COLLECTIONS.checkpoints).find({ tenant_id: TENANT }).sort({ tree_size: -1 }).limit(1).toArray())[0]?.tree_size as number | undefined) ?? 0;
  const verified = async () => ((await db.collection(LEDGER_LOG_COLLECTIONS.verifiedPrefixes).findOne({ tenant_id: TENANT }))?.tree_size as number | undefined) ?? 0;
  const recomputed = async (p: ServiceProcess, by: string) => {
    const text = await (await fetch(`${p.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`ledger_leaves_recomputed_total{by="${by}"}`));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };

  beforeAll(async () => {
    testDb = await openTestDb('verifycrash');
    db = testDb.db;
    // Three rounds: entries written while no service runs, then sealed by one that starts (and finds them).
    const append = chainAppender(new PlanLedger(db));
    for (let round = 1; round <= 3; round++) {
      for (let p = 0; p < PER_ROUND / 50; p++) {
        const planId = randomUUID();
        for (let i = 0; i < 50; i++) await append({ plan_id: planId, tenant_id: TENANT, account_id: 'a', event_type: 'PLAN_UPDATED', actor: 'v', data: { i } });
      }
      const sealer = await start({ LEDGER_VERIFIER: 'off' });
      await waitUntil(`checkpoint ${round * PER_ROUND}`, async () => (await latestCheckpoint()) === round * PER_ROUND, 60_000);
      await sealer.stop();
    }
  }, 300_000);

  afterAll(async () => {
    figures.print();
    await proc?.stop();
    await testDb?.close();
  }, 60_000);

  it('goes on from the recorded prefix after a SIGKILL and ends at the latest checkpoint', async () => {
    expect(await verified()).toBe(0);
    proc = await start({ LEDGER_VERIFY_LEAVES_PER_SECOND: '400' });
    await waitUntil('the first checkpoint verified in the background', async () => (await verified()) >= PER_ROUND, 60_000, 20);
    const killedAt = await verified();
    proc.kill('SIGKILL');
    await proc.exited;
    expect(killedAt).toBeLessThan(3 * PER_ROUND);

    proc = await start({ LEDGER_VERIFY_LEAVES_PER_SECOND: '2000' });
    const ms = await waitUntil('the latest checkpoint verified after the restart', async () => (await verified()) === 3 * PER_ROUND, 90_000);
    const again = await recomputed(proc, 'background');
    expect(again).toBe(3 * PER_ROUND - killedAt);

    const token = await tokenFor(TENANT, ['plan-viewer'], 'v');
    const res = await postGql<{ verifyLedgerCheckpoint: { treeSize: number; valid: boolean } }>(proc.url, '{ verifyLedgerCheckpoint { treeSize valid } }', {}, { token });
    expect(res.data?.verifyLedgerCheckpoint).toEqual({ treeSize: 3 * PER_ROUND, valid: true });
    expect(await recomputed(proc, 'request')).toBe(0);
    figures.set('verified prefix at the SIGKILL', killedAt);
    figures.set('leaves recomputed after the restart', again);
    figures.set('restart to fully verified (ms, includes the dead lease)', ms);
  }, 180_000);
});
