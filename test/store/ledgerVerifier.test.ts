// The background verifier against the real store: it raises a tenant's verified prefix
// checkpoint by checkpoint from the stored entries, so a request never makes the first pass
// (beyond its bound a request answers VERIFICATION_PENDING); it waits out another holder's
// lease, goes on from where a stopped instance left, and does not vouch for an entry changed
// in the database after it was sealed (the mismatch is recorded and the request names the leaf).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Principal } from '../../src/auth/principal.js';
import { AppError } from '../../src/domain/errors.js';
import type { LedgerEntryRecord } from '../../src/domain/ledger.js';
import { parsePrivateKey } from '../../src/config/ledgerSigningKey.js';
import { CheckpointSigner, generateSigningKey } from '../../src/services/ledgerLog/checkpointSigner.js';
import { LedgerLogService } from '../../src/services/ledgerLog/LedgerLogService.js';
import { LedgerSealer } from '../../src/services/ledgerLog/LedgerSealer.js';
import { LedgerVerifier, type LedgerVerifierOptions } from '../../src/services/ledgerLog/LedgerVerifier.js';
import { recordVerifiedPrefix } from '../../src/services/ledgerLog/verifiedPrefix.js';
import { TenantWorkLimiter } from '../../src/services/tenantWorkLimiter.js';
import { fromHex, type Hash } from '../../src/domain/merkleTree.js';
import { hashLedgerEntry } from '../../src/store/index.js';
import { ensureIndexes } from '../../src/store/indexes.js';
import { LEDGER_LOG_COLLECTIONS } from '../../src/store/ledgerLog/ledgerLogIndexes.js';
import { LedgerLogStore } from '../../src/store/ledgerLog/LedgerLogStore.js';
import { PlanLedger } from '../../src/store/PlanLedger.js';
import { chainAppender } from '../support/ledgerAppends.js';
import { openTestDb, type TestDb } from '../support/testDb.js';
import { sleep, waitUntil } from '../support/wait.js';
import { memoryLogger } from './storeFixtures.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const signer = new CheckpointSigner(parsePrivateKey(generateSigningKey()));
const principalOf = (tenantId: string): Principal => ({ sub: 'v', tenantId, claimedRoles: ['plan-viewer'], roles: new Set(['plan-viewer']) });
/** Checkpoints every 40 leaves: the sealer signs after each batch. */
const SEAL_BATCH = 40;

describe('background verification of the ledger log (real store)', () => {
  let t: TestDb;
  let logStore: LedgerLogStore;
  let ledger: PlanLedger;
  const notified: LedgerEntryRecord[] = [];

  beforeAll(async () => {
    t = await openTestDb('verifier');
    await ensureIndexes(t.db);
    logStore = new LedgerLogStore(t.db, { logger: memoryLogger() });
    ledger = new PlanLedger(t.db, { logger: memoryLogger(), onAppended: (e) => notified.push(e) });
  });
  afterAll(async () => {
    await t.close();
  });

  /** A tenant with n entries, sealed in checkpoints of SEAL_BATCH leaves; no verified prefix. */
  async function sealedTenant(n: number): Promise<{ tenant: string; entries: LedgerEntryRecord[] }> {
    const tenant = `v-${randomUUID()}`;
    const sealer = new LedgerSealer({ store: logStore, signer, logger: quiet, intervalMs: 100, batchLimit: SEAL_BATCH });
    const append = chainAppender(ledger);
    const entries: LedgerEntryRecord[] = [];
    for (let p = 0; p * 20 < n; p++) {
      const planId = randomUUID();
      for (let i = 0; i < Math.min(20, n - p * 20); i++) entries.push(await append({ plan_id: planId, tenant_id: tenant, account_id: 'acc', event_type: 'PLAN_UPDATED', actor: 'a', data: { i } }));
    }
    for (const e of notified.splice(0)) sealer.notify(e);
    while (sealer.pendingCount() > 0) await sealer.sealAll();
    return { tenant, entries };
  }

  const verifierOf = (leaves: number[], options: Partial<LedgerVerifierOptions> = {}) =>
    new LedgerVerifier({ store: logStore, signer, logger: quiet, intervalMs: 50, leavesPerSecond: 1_000_000, duty: 1, stepLeaves: 100, onLeaves: (n) => leaves.push(n), ...options });
  const serviceOf = (recomputed: number[]) => new LedgerLogService({ store: logStore, signer, limiter: new TenantWorkLimiter(), requestLeaves: 50, onLeavesRecomputed: (n) => recomputed.push(n) });
  const prefixOf = async (tenant: string) => (await t.db.collection(LEDGER_LOG_COLLECTIONS.verifiedPrefixes).findOne({ tenant_id: tenant })) ?? null;
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const errorOf = async (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as AppError);

  it('answers VERIFICATION_PENDING far beyond the prefix, raises the prefix checkpoint by checkpoint, then answers without recomputing', async () => {
    const { tenant } = await sealedTenant(400);
    const recomputed: number[] = [];
    const log = serviceOf(recomputed);
    const pending = await errorOf(log.verifyCheckpoint(principalOf(tenant)));
    expect(pending).toBeInstanceOf(AppError);
    expect(pending?.code).toBe('VERIFICATION_PENDING');
    expect(pending?.details).toMatchObject({ treeSize: 400, verifiedTreeSize: 0 });
    expect(sum(recomputed)).toBe(0);

    const leaves: number[] = [];
    const verifier = verifierOf(leaves);
    const sizes: number[] = [];
    while ((await verifier.step(tenant)) === 'more') sizes.push(((await prefixOf(tenant))?.tree_size as number | undefined) ?? 0);
    // Steps of at most 100 leaves that end on checkpoints (every 40 leaves): 80, 160, …, 400.
    expect(sizes).toEqual([80, 160, 240, 320, 400]);
    expect(sum(leaves)).toBe(400);

    expect(await log.verifyCheckpoint(principalOf(tenant))).toEqual({ treeSize: 400, valid: true, entriesChecked: 400, firstBadLeafIndex: null });
    expect(await log.verifyCheckpoint(principalOf(tenant), 120)).toEqual({ treeSize: 120, valid: true, entriesChecked: 120, firstBadLeafIndex: null });
    expect(sum(recomputed)).toBe(0);
  });

  it('extends the prefix within a request by the few leaves a new checkpoint adds', async () => {
    const { tenant } = await sealedTenant(120);
    const verifier = verifierOf([]);
    await verifier.step(tenant);
    expect(await prefixOf(tenant)).toMatchObject({ tree_size: 80 });
    const recomputed: number[] = [];
    expect(await serviceOf(recomputed).verifyCheckpoint(principalOf(tenant))).toMatchObject({ treeSize: 120, valid: true });
    expect(sum(recomputed)).toBe(40);
    expect(await prefixOf(tenant)).toMatchObject({ tree_size: 120 });
  });

  it('counts a verified prefix the service did not sign as none (a database writer cannot vouch for entries)', async () => {
    const { tenant } = await sealedTenant(120);
    await verifierOf([]).step(tenant);
    const recorded = await prefixOf(tenant);
    expect(recorded).toMatchObject({ tree_size: 80 });
    // Raised to the latest checkpoint with its root and a frontier copied from the stored nodes' place: the signature no longer holds.
    const latest = await t.db.collection(LEDGER_LOG_COLLECTIONS.checkpoints).findOne({ tenant_id: tenant, tree_size: 120 });
    await t.db.collection(LEDGER_LOG_COLLECTIONS.verifiedPrefixes).updateOne({ tenant_id: tenant }, { $set: { tree_size: 120, root_hash: latest?.root_hash as string } });
    const recomputed: number[] = [];
    const log = new LedgerLogService({ store: logStore, signer, limiter: new TenantWorkLimiter(), requestLeaves: 200, onLeavesRecomputed: (n) => recomputed.push(n) });
    expect(await log.verifyCheckpoint(principalOf(tenant))).toMatchObject({ treeSize: 120, valid: true });
    // Recomputed from leaf 0: the forged record was not taken for work done.
    expect(sum(recomputed)).toBe(120);
    // Nor is a record with the right fields signed by another key.
    const honest = await prefixOf(tenant);
    expect(honest).toMatchObject({ tree_size: 120 });
    await t.db.collection(LEDGER_LOG_COLLECTIONS.verifiedPrefixes).deleteOne({ tenant_id: tenant });
    const frontier = (honest?.frontier as string[]).map((h) => fromHex(h) as Hash);
    await recordVerifiedPrefix(logStore, new CheckpointSigner(parsePrivateKey(generateSigningKey())), tenant, 120, honest?.root_hash as string, frontier);
    const bounded = new LedgerLogService({ store: logStore, signer, limiter: new TenantWorkLimiter(), requestLeaves: 50 });
    expect((await errorOf(bounded.verifyCheckpoint(principalOf(tenant))))?.code).toBe('VERIFICATION_PENDING');
  });

  it('waits while another instance holds the lease, and takes over once it expires', async () => {
    const { tenant } = await sealedTenant(80);
    expect(await logStore.acquireLease(tenant, 'a-dead-instance', new Date(), 400, 'verify')).toBe(true);
    const verifier = verifierOf([]);
    expect(await verifier.step(tenant)).toBe('busy');
    expect(await prefixOf(tenant)).toBeNull();
    await sleep(500);
    await verifier.step(tenant);
    expect(await prefixOf(tenant)).toMatchObject({ tree_size: 80 });
    // The sealing lease is another key: holding one does not hold the other.
    expect(await logStore.acquireLease(tenant, 'sealer', new Date(), 10_000)).toBe(true);
  });

  it('a stopped instance leaves the prefix at its last checkpoint; another goes on from there', async () => {
    const { tenant } = await sealedTenant(400);
    const first: number[] = [];
    // Paced slowly: 64 leaves per batch at 400 leaves/s.
    const slow = verifierOf(first, { leavesPerSecond: 400, stepLeaves: 40 });
    slow.notify(tenant);
    slow.start();
    await waitUntil('a first checkpoint verified', async () => ((await prefixOf(tenant))?.tree_size as number | undefined ?? 0) >= 80, 10_000, 20);
    await slow.stop();
    const left = (await prefixOf(tenant))?.tree_size as number;
    expect(left).toBeLessThan(400);
    const second: number[] = [];
    const other = verifierOf(second);
    while ((await other.step(tenant)) === 'more');
    expect(await prefixOf(tenant)).toMatchObject({ tree_size: 400 });
    // Only what the first had not recorded is recomputed again.
    expect(sum(second)).toBe(400 - left);
  });

  it('does not vouch for an entry changed after sealing: the mismatch is recorded and the request names the leaf', async () => {
    const { tenant, entries } = await sealedTenant(200);
    const verifier = verifierOf([]);
    await verifier.step(tenant);
    expect(await prefixOf(tenant)).toMatchObject({ tree_size: 80 });
    // An entry the next step covers is rewritten with a matching hash (the chain would pass).
    const target = entries[130] as LedgerEntryRecord;
    await t.db.collection('plan_ledger').updateOne({ entry_id: target.entry_id }, { $set: { actor: 'mallory', hash: hashLedgerEntry({ ...target, actor: 'mallory' }) } });
    const leaf = (await t.db.collection(LEDGER_LOG_COLLECTIONS.leaves).findOne({ tenant_id: tenant, entry_id: target.entry_id }))?.index as number;
    expect(await verifier.step(tenant)).toBe('done');
    expect(await prefixOf(tenant)).toMatchObject({ tree_size: 80, mismatch_tree_size: 160 });
    // It does not try again on its own; checkpoints it already verified still answer.
    expect(await verifier.step(tenant)).toBe('done');
    const log = serviceOf([]);
    expect(await log.verifyCheckpoint(principalOf(tenant), 80)).toMatchObject({ valid: true });
    expect(await log.verifyCheckpoint(principalOf(tenant))).toEqual({ treeSize: 200, valid: false, entriesChecked: 200, firstBadLeafIndex: leaf });
  });
});
