// verifyLedgerCheckpoint's cost and answers, against the real store: a verified prefix is
// recorded and only extended (or proven a prefix of, for an older checkpoint), a size no
// checkpoint has is NOT_FOUND before and after a restart, and a checkpoint whose size record a
// crash lost is still found and gets its record back from the sealer.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Principal } from '../../src/auth/principal.js';
import { AppError } from '../../src/domain/errors.js';
import type { LedgerEntryRecord } from '../../src/domain/ledger.js';
import { parsePrivateKey } from '../../src/config/ledgerSigningKey.js';
import { CheckpointSigner, generateSigningKey } from '../../src/services/ledgerLog/checkpointSigner.js';
import { LedgerLogService } from '../../src/services/ledgerLog/LedgerLogService.js';
import { LedgerSealer } from '../../src/services/ledgerLog/LedgerSealer.js';
import { TenantWorkLimiter } from '../../src/services/tenantWorkLimiter.js';
import { hashLedgerEntry } from '../../src/store/index.js';
import { ensureIndexes } from '../../src/store/indexes.js';
import { LEDGER_LOG_COLLECTIONS } from '../../src/store/ledgerLog/ledgerLogIndexes.js';
import { LedgerLogStore } from '../../src/store/ledgerLog/LedgerLogStore.js';
import { PlanLedger } from '../../src/store/PlanLedger.js';
import { chainAppender } from '../support/ledgerAppends.js';
import { openTestDb, type TestDb } from '../support/testDb.js';
import { memoryLogger } from './storeFixtures.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const signer = new CheckpointSigner(parsePrivateKey(generateSigningKey()));
const principalOf = (tenantId: string): Principal => ({ sub: 'v', tenantId, claimedRoles: ['plan-viewer'], roles: new Set(['plan-viewer']) });

describe('checkpoint verification (real store)', () => {
  let t: TestDb;
  let logStore: LedgerLogStore;
  let ledger: PlanLedger;
  const notified: LedgerEntryRecord[] = [];

  beforeAll(async () => {
    t = await openTestDb('verify');
    await ensureIndexes(t.db);
    logStore = new LedgerLogStore(t.db, { logger: memoryLogger() });
    ledger = new PlanLedger(t.db, { logger: memoryLogger(), onAppended: (e) => notified.push(e) });
  });
  afterAll(async () => {
    await t.close();
  });

  /** A service process: its sealer (the witness of what it signed) and its verifier. */
  const processOf = () => {
    const sealer = new LedgerSealer({ store: logStore, signer, logger: quiet, intervalMs: 100 });
    const log = new LedgerLogService({ store: logStore, signer, sealer, limiter: new TenantWorkLimiter() });
    return { sealer, log };
  };

  async function writeAndSeal(sealer: LedgerSealer, tenant: string, n: number): Promise<LedgerEntryRecord[]> {
    const append = chainAppender(ledger);
    const planId = randomUUID();
    const out: LedgerEntryRecord[] = [];
    for (let i = 0; i < n; i++) out.push(await append({ plan_id: planId, tenant_id: tenant, account_id: 'acc', event_type: 'PLAN_UPDATED', actor: 'a', data: { i } }));
    for (const e of notified.splice(0)) sealer.notify(e);
    await sealer.sealAll();
    return out;
  }

  const prefixOf = (tenant: string) => t.db.collection(LEDGER_LOG_COLLECTIONS.verifiedPrefixes).findOne({ tenant_id: tenant });
  const codeOf = async (p: Promise<unknown>) => p.then(() => 'answered', (e: unknown) => (e instanceof AppError ? `${e.code}: ${e.message}` : String(e)));

  it('answers NOT_FOUND for a size no checkpoint has, in the signing process and after a restart alike', async () => {
    const tenant = `nf-${randomUUID()}`;
    const first = processOf();
    await writeAndSeal(first.sealer, tenant, 3);
    expect(await codeOf(first.log.verifyCheckpoint(principalOf(tenant), 999_999))).toBe('NOT_FOUND: no checkpoint of size 999999');
    const restarted = processOf();
    expect(await codeOf(restarted.log.verifyCheckpoint(principalOf(tenant), 999_999))).toBe('NOT_FOUND: no checkpoint of size 999999');
    expect(await restarted.log.verifyCheckpoint(principalOf(tenant), 3)).toEqual({ treeSize: 3, valid: true, entriesChecked: 3, firstBadLeafIndex: null });
  });

  it('records the verified prefix, extends it by new leaves, and proves older checkpoints against it', async () => {
    const tenant = `inc-${randomUUID()}`;
    const { sealer, log } = processOf();
    const early = await writeAndSeal(sealer, tenant, 5);
    expect(await log.verifyCheckpoint(principalOf(tenant))).toMatchObject({ treeSize: 5, valid: true });
    expect(await prefixOf(tenant)).toMatchObject({ tree_size: 5 });
    await writeAndSeal(sealer, tenant, 4);
    expect(await log.verifyCheckpoint(principalOf(tenant))).toEqual({ treeSize: 9, valid: true, entriesChecked: 9, firstBadLeafIndex: null });
    expect(await prefixOf(tenant)).toMatchObject({ tree_size: 9 });
    // An older checkpoint: a consistency proof from it to the verified prefix.
    expect(await log.verifyCheckpoint(principalOf(tenant), 5)).toEqual({ treeSize: 5, valid: true, entriesChecked: 5, firstBadLeafIndex: null });

    // A request does not re-read what it verified: an entry edited below the prefix is the
    // offline audit's to find (ledger:export + ledger:verify) ...
    const edited = early[1] as LedgerEntryRecord;
    const forged = { ...edited, actor: 'mallory' };
    await t.db.collection('plan_ledger').updateOne({ entry_id: edited.entry_id }, { $set: { actor: 'mallory', hash: hashLedgerEntry(forged) } });
    expect((await log.verifyCheckpoint(principalOf(tenant))).valid).toBe(true);
    // ... but one in the leaves a request extends over is caught, at its leaf.
    const later = await writeAndSeal(sealer, tenant, 3);
    const target = later[1] as LedgerEntryRecord;
    await t.db.collection('plan_ledger').updateOne({ entry_id: target.entry_id }, { $set: { actor: 'mallory', hash: hashLedgerEntry({ ...target, actor: 'mallory' }) } });
    const leaf = (await t.db.collection(LEDGER_LOG_COLLECTIONS.leaves).findOne({ tenant_id: tenant, entry_id: target.entry_id }))?.index as number;
    const caught = await log.verifyCheckpoint(principalOf(tenant));
    expect(caught).toMatchObject({ treeSize: 12, valid: false });
    // The whole log is recomputed on a mismatch: the earlier edit (leaf 1) is found first.
    expect(caught.firstBadLeafIndex).toBe(Math.min(leaf, 1));
    expect(await prefixOf(tenant)).toMatchObject({ tree_size: 9 });
  });

  it('finds a checkpoint whose size record a crash lost, and the sealer writes the record again', async () => {
    const tenant = `size-${randomUUID()}`;
    const first = processOf();
    await writeAndSeal(first.sealer, tenant, 4);
    const sizes = t.db.collection(LEDGER_LOG_COLLECTIONS.checkpointSizes);
    // The crash: checkpoint 4 inserted, its size record not.
    expect((await sizes.deleteOne({ tenant_id: tenant, tree_size: 4 })).deletedCount).toBe(1);
    const entry = (await t.db.collection(LEDGER_LOG_COLLECTIONS.leaves).findOne({ tenant_id: tenant, index: 0 }))?.entry_id as string;
    const restarted = processOf();
    expect(await restarted.log.inclusionProof(principalOf(tenant), entry, 4)).toMatchObject({ leafIndex: 0, treeSize: 4 });
    expect(await restarted.log.verifyCheckpoint(principalOf(tenant), 4)).toMatchObject({ treeSize: 4, valid: true });
    // The restarted sealer's next round reads the log's state from the store and repairs the record.
    await writeAndSeal(restarted.sealer, tenant, 1);
    expect(await sizes.findOne({ tenant_id: tenant, tree_size: 4 })).toMatchObject({ tree_size: 4, seq: 1 });
  });
});
