import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Db } from 'mongodb';
import { generateSigningKey } from '../../src/services/ledgerLog/checkpointSigner.js';
import { LEDGER_LOG_COLLECTIONS } from '../../src/store/ledgerLog/ledgerLogIndexes.js';
import { openTestDb, type TestDb } from '../support/testDb.js';
import { waitFor } from '../support/wait.js';
import { Figures, mapLimit, postGql, PROPOSE, SIGNALS, spawnServiceProcess, tokenFor, type ServiceProcess } from '../support/reliability.js';

/**
 * Crash mid-seal: the service runs as its own process and is killed with SIGKILL at the
 * moment its sealer has inserted leaves that no checkpoint covers yet (the database is
 * watched for exactly that), KILLS times during a burst of proposals. After a restart every
 * ledger entry is a leaf exactly once, the leaves run 0..n-1 without a gap, and the latest
 * checkpoint covers them all and verifies from the entries.
 */

const KILLS = 3;
const figures = new Figures('ledger sealing crash (SIGKILL mid-seal)');

describe('reliability: SIGKILL while sealing', () => {
  const key = generateSigningKey();
  let testDb: TestDb | undefined;
  let db: Db;
  let proc: ServiceProcess | null = null;
  let token: string;

  const start = async () => (proc = await spawnServiceProcess({ MONGODB_URI: testDb!.uri, MONGODB_DB: testDb!.dbName, LEDGER_SIGNING_KEY: key, LEDGER_CHECKPOINT_INTERVAL_MS: '150' }));

  beforeAll(async () => {
    testDb = await openTestDb('sealcrash');
    db = testDb.db;
    token = await tokenFor('sealcrash', ['plan-proposer', 'plan-viewer'], 'sam');
  }, 30_000);

  afterAll(async () => {
    figures.print();
    await proc?.stop();
    await testDb?.close();
  }, 60_000);

  /** Leaves stored beyond the latest checkpoint: a seal in progress (or cut short). */
  async function unsealedLeaves(): Promise<number> {
    const leaves = await db.collection(LEDGER_LOG_COLLECTIONS.leaves).countDocuments({ tenant_id: 'sealcrash' });
    const [latest] = await db.collection(LEDGER_LOG_COLLECTIONS.checkpoints).find({ tenant_id: 'sealcrash' }).sort({ seq: -1 }).limit(1).toArray();
    return leaves - ((latest?.tree_size as number | undefined) ?? 0);
  }

  it(
    'seals every entry exactly once across kills in the middle of a seal',
    async () => {
      let keyCounter = 0;
      for (let kill = 0; kill < KILLS; kill++) {
        const service = await start();
        let stop = false;
        let killedMidSeal = false;
        let answered = 0;
        const burst = mapLimit(
          Array.from({ length: 3000 }, (_, i) => i),
          12,
          async () => {
            if (stop) return;
            const res = await postGql(service.url, PROPOSE, { input: { accountId: `acct-${keyCounter % 17}`, planType: 'RENEWAL_DEFENSE', signals: SIGNALS, idempotencyKey: `k-${keyCounter++}` } }, { token, timeoutMs: 20_000 });
            if (res.status !== 0) answered++;
            figures.add(res.status === 0 ? 'requests cut off by the kill' : 'requests answered');
          },
        );
        // Once the burst is under way, watch for leaves without their checkpoint, then kill at once.
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline) {
          if (answered < 150) {
            await new Promise((r) => setTimeout(r, 20));
            continue;
          }
          if ((await unsealedLeaves()) > 0) {
            killedMidSeal = true;
            break;
          }
        }
        service.kill('SIGKILL');
        stop = true;
        await burst;
        expect((await service.exited).signal).toBe('SIGKILL');
        figures.add('SIGKILLs');
        if (killedMidSeal) figures.add('kills with leaves stored but no checkpoint yet');
        figures.add('leaves past the last checkpoint at the kill (sum)', Math.max(0, await unsealedLeaves()));
      }
      expect(figures.get('kills with leaves stored but no checkpoint yet')).toBeGreaterThan(0);

      const service = await start();
      const entries = await db.collection('plan_ledger').countDocuments({ tenant_id: 'sealcrash' });
      let checkpointSize = 0;
      for (let i = 0; i < 200 && checkpointSize < entries; i++) {
        const res = await postGql<{ ledgerCheckpoint: { treeSize: number } | null }>(service.url, '{ ledgerCheckpoint { treeSize } }', {}, { token });
        checkpointSize = res.data?.ledgerCheckpoint?.treeSize ?? 0;
        if (checkpointSize < entries) await new Promise((r) => setTimeout(r, 100));
      }
      figures.set('ledger entries / latest checkpoint after restart', `${entries} / ${checkpointSize}`);
      expect(checkpointSize).toBe(entries);

      const leaves = await db.collection(LEDGER_LOG_COLLECTIONS.leaves).find({ tenant_id: 'sealcrash' }, { projection: { index: 1, entry_id: 1 } }).toArray();
      const ids = new Set(leaves.map((l) => l.entry_id));
      const entryIds = new Set((await db.collection('plan_ledger').find({ tenant_id: 'sealcrash' }, { projection: { entry_id: 1 } }).toArray()).map((e) => e.entry_id));
      expect(leaves.length).toBe(entries);
      expect(ids.size).toBe(entries);
      expect(ids).toEqual(entryIds);
      expect(leaves.map((l) => l.index as number).sort((a, b) => a - b)).toEqual(Array.from({ length: entries }, (_, i) => i));

      // Past 1,024 unverified leaves the answer is VERIFICATION_PENDING until the restarted
      // service's background verifier gets there: asked again, as a client would.
      const verify = () => postGql<{ verifyLedgerCheckpoint: { valid: boolean; entriesChecked: number } }>(service.url, '{ verifyLedgerCheckpoint { valid entriesChecked } }', {}, { token });
      const verified = await waitFor('an answer other than VERIFICATION_PENDING', async () => {
        const res = await verify();
        return res.errors?.[0]?.extensions?.code === 'VERIFICATION_PENDING' ? null : res;
      }, 60_000, 250);
      expect(verified.data?.verifyLedgerCheckpoint).toEqual({ valid: true, entriesChecked: entries });
      figures.set('entries sealed exactly once', entries);
    },
    240_000,
  );
});
