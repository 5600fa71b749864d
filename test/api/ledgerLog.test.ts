import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import type { Document } from 'mongodb';
import { auditConsistency, auditExport, type CheckpointJson, type TrustedKey } from '../../src/cli/ledgerAudit.js';
import { fromHex, verifyConsistency, verifyInclusion, type Hash } from '../../src/domain/merkleTree.js';
import { hashLedgerEntry } from '../../src/store/ledgerHash.js';
import { LEDGER_LOG_COLLECTIONS } from '../../src/store/ledgerLog/ledgerLogIndexes.js';
import { PROPOSE, SIGNALS, startReliabilityServer, tokenFor, TRANSITIONS, type ProposedPlan, type ReliabilityServer } from '../support/reliability.js';
import { waitFor } from '../support/wait.js';

// The verifiable ledger through the API, against the real store. Every kind of tampering is
// done straight in the database, and each must be caught three ways: by the API's verifiers
// (verifyLedgerCheckpoint, verifyPlanLedger), by the offline audit of an export (what
// `npm run ledger:verify` runs), and by a witness holding an earlier checkpoint (what the
// dashboard does: a consistency proof to the new checkpoint, inclusion proofs of entries).

const CHECKPOINT = 'query($s: Int) { ledgerCheckpoint(treeSize: $s) { tenantId treeSize rootHash timestamp keyId signature note } }';
const KEYS = '{ ledgerSigningKeys { keyId algorithm publicKey } }';
const INCLUSION = 'query($id: ID!, $s: Int) { ledgerInclusionProof(entryId: $id, treeSize: $s) { entryId leafIndex treeSize leafHash auditPath } }';
const CONSISTENCY = 'query($f: Int!, $t: Int) { ledgerConsistencyProof(fromSize: $f, toSize: $t) { fromSize toSize path } }';
const VERIFY_CHECKPOINT = 'query($s: Int) { verifyLedgerCheckpoint(treeSize: $s) { treeSize valid entriesChecked firstBadLeafIndex } }';
const VERIFY_PLAN = 'query($id: ID!) { verifyPlanLedger(planId: $id) { planId valid entries brokenAtSeq checkpointTreeSize } }';
const FEED = 'query { planLedger(first: 500) { edges { node { entryId planId seq hash } } } }';

type Checkpoint = CheckpointJson;
type Entry = Document & { _id: string; seq: number; plan_id: string; entry_id: string };

const sha = (...parts: Uint8Array[]) => new Uint8Array(createHash('sha256').update(Buffer.concat(parts)).digest());
const leafOf = (entryHash: string) => sha(Uint8Array.of(0), fromHex(entryHash) as Uint8Array);

describe('verifiable ledger API', () => {
  let server: ReliabilityServer;
  let keys: TrustedKey[];

  beforeAll(async () => {
    // The tests below edit a log right after it is sealed and ask a request to find it: without
    // the background verifier no verified prefix predates the edit (requests trust one that does;
    // docs/ledger.md, "What verified means"; test/store/ledgerVerifier.test.ts covers the verifier).
    server = await startReliabilityServer({ LEDGER_CHECKPOINT_INTERVAL_MS: '100', LEDGER_VERIFIER: 'off' });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  }, 60_000);

  interface Tenant {
    name: string;
    token: string;
    planA: string;
    saved: Checkpoint;
    latest: Checkpoint;
    /** The entries the witness saw with the saved checkpoint (it keeps their ids and hashes). */
    seen: { entryId: string; hash: string }[];
  }

  const q = async <T>(query: string, variables: Record<string, unknown>, token: string): Promise<T> => {
    const res = await server.gql<T>(query, variables, token);
    expect(res.errors).toBeUndefined();
    return res.data as T;
  };

  async function waitForCheckpoint(token: string, size: number): Promise<Checkpoint> {
    return waitFor(
      `a checkpoint of size ${size}`,
      async () => {
        const { ledgerCheckpoint } = await q<{ ledgerCheckpoint: Checkpoint | null }>(CHECKPOINT, {}, token);
        return ledgerCheckpoint && ledgerCheckpoint.treeSize >= size ? ledgerCheckpoint : null;
      },
      10_000,
      50,
    );
  }

  const propose = async (token: string, account: string) =>
    (await q<{ proposePlan: ProposedPlan }>(PROPOSE, { input: { accountId: account, planType: 'RENEWAL_DEFENSE', signals: SIGNALS } }, token)).proposePlan.plan.planId;

  /** A tenant with 7 sealed entries (checkpoint saved), then one more (the latest checkpoint). */
  async function seedTenant(name: string): Promise<Tenant> {
    const token = await tokenFor(name, ['plan-proposer', 'plan-approver', 'plan-viewer'], 'lena');
    const planA = await propose(token, 'acct-a');
    for (const op of ['approve', 'activate', 'pause', 'resume'] as const) expect((await q<{ r: { ok: boolean } }>(TRANSITIONS[op], { planId: planA }, token)).r.ok).toBe(true);
    await propose(token, 'acct-b');
    await propose(token, 'acct-c');
    const saved = await waitForCheckpoint(token, 7);
    expect(saved.treeSize).toBe(7);
    await propose(token, 'acct-d');
    const latest = await waitForCheckpoint(token, 8);
    const seen = (await q<{ planLedger: { edges: { node: { entryId: string; hash: string } }[] } }>(FEED, {}, token)).planLedger.edges.map((e) => e.node);
    return { name, token, planA, saved, latest, seen };
  }

  const verifyCheckpoint = async (t: Tenant, s?: number) =>
    (await q<{ verifyLedgerCheckpoint: { treeSize: number; valid: boolean; entriesChecked: number; firstBadLeafIndex: number | null } }>(VERIFY_CHECKPOINT, { s }, t.token)).verifyLedgerCheckpoint;
  const verifyPlan = async (t: Tenant, id: string) =>
    (await q<{ verifyPlanLedger: { valid: boolean; entries: number; brokenAtSeq: number | null; checkpointTreeSize: number | null } }>(VERIFY_PLAN, { id }, t.token)).verifyPlanLedger;

  /** The offline audit of an export of the tenant's log, against the saved checkpoint. */
  async function offlineAudit(t: Tenant) {
    const lines: string[] = [];
    for await (const row of server.running.services.ledgerLog.exportLog(t.name)) lines.push(JSON.stringify(row));
    return auditExport(lines.join('\n'), keys, t.saved);
  }

  /** What the dashboard's witness does: the new checkpoint must extend the saved one, and the entries it shows must be in it. */
  async function witness(t: Tenant): Promise<string[]> {
    const failures: string[] = [];
    const { ledgerCheckpoint: now } = await q<{ ledgerCheckpoint: Checkpoint | null }>(CHECKPOINT, {}, t.token);
    if (!now || now.treeSize < t.saved.treeSize) return [`checkpoint ${now?.treeSize ?? 0} is older than the saved ${t.saved.treeSize}`];
    const proof = await server.gql<{ ledgerConsistencyProof: { path: string[] } }>(CONSISTENCY, { f: t.saved.treeSize, t: now.treeSize }, t.token);
    const path = proof.data?.ledgerConsistencyProof.path.map((h) => fromHex(h) as Hash) ?? [];
    if (proof.errors || !verifyConsistency(t.saved.treeSize, now.treeSize, fromHex(t.saved.rootHash) as Hash, fromHex(now.rootHash) as Hash, path)) {
      failures.push(`checkpoint ${t.saved.treeSize} is not a prefix of ${now.treeSize}`);
    }
    const feed = await q<{ planLedger: { edges: { node: { entryId: string; hash: string } }[] } }>(FEED, {}, t.token);
    for (const node of [...t.seen, ...feed.planLedger.edges.map((e) => e.node)]) {
      const res = await server.gql<{ ledgerInclusionProof: { leafIndex: number; treeSize: number; leafHash: string; auditPath: string[] } | null }>(INCLUSION, { id: node.entryId, s: now.treeSize }, t.token);
      const p = res.data?.ledgerInclusionProof;
      if (res.errors || !p) {
        failures.push(`entry ${node.entryId} has no inclusion proof`);
        continue;
      }
      const leaf = leafOf(node.hash);
      if (p.leafHash !== Buffer.from(leaf).toString('hex')) failures.push(`entry ${node.entryId} changed`);
      if (!verifyInclusion(p.leafIndex, p.treeSize, leaf, p.auditPath.map((h) => fromHex(h) as Hash), fromHex(now.rootHash) as Hash)) failures.push(`entry ${node.entryId} is not in checkpoint ${now.treeSize}`);
    }
    return failures;
  }

  const ledger = () => server.db.collection<Entry>('plan_ledger');
  const leaves = () => server.db.collection<Document>(LEDGER_LOG_COLLECTIONS.leaves);

  it('publishes checkpoints, keys and proofs a client can check with nothing else', async () => {
    const t = await seedTenant('ll-pristine');
    keys = (await q<{ ledgerSigningKeys: (TrustedKey & { algorithm: string })[] }>(KEYS, {}, t.token)).ledgerSigningKeys;
    expect(keys).toEqual([{ keyId: t.latest.keyId, algorithm: 'Ed25519', publicKey: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/) }]);
    expect(t.latest.note).toBe(`renewal-defense-ledger/v1\nll-pristine\n8\n${t.latest.rootHash}\n${t.latest.timestamp.replace(/Z$/, '')}${t.latest.timestamp.endsWith('Z') ? 'Z' : ''}\n`);
    expect((await q<{ ledgerCheckpoint: Checkpoint }>(CHECKPOINT, { s: 7 }, t.token)).ledgerCheckpoint).toEqual(t.saved);
    expect(await verifyCheckpoint(t)).toEqual({ treeSize: 8, valid: true, entriesChecked: 8, firstBadLeafIndex: null });
    expect(await verifyCheckpoint(t, 7)).toEqual({ treeSize: 7, valid: true, entriesChecked: 7, firstBadLeafIndex: null });
    expect(await verifyPlan(t, t.planA)).toMatchObject({ valid: true, entries: 5, brokenAtSeq: null, checkpointTreeSize: 8 });
    expect(await witness(t)).toEqual([]);
    const audit = await offlineAudit(t);
    expect(audit).toMatchObject({ ok: true, tenantId: 'll-pristine', leaves: 8, firstBadLeafIndex: null, problems: [] });
    const proof = (await q<{ ledgerConsistencyProof: { fromSize: number; toSize: number; path: string[] } }>(CONSISTENCY, { f: 7 }, t.token)).ledgerConsistencyProof;
    expect(auditConsistency(t.saved, t.latest, proof, keys)).toMatchObject({ ok: true });
    // Another tenant sees none of it; bad input is a typed error.
    const other = await tokenFor('ll-other', ['plan-viewer'], 'olga');
    const firstEntry = (await ledger().findOne({ tenant_id: 'll-pristine', plan_id: t.planA, seq: 1 }))!;
    expect((await server.gql<{ ledgerInclusionProof: unknown }>(INCLUSION, { id: firstEntry.entry_id }, other)).data?.ledgerInclusionProof).toBeNull();
    expect((await server.gql<{ ledgerCheckpoint: unknown }>(CHECKPOINT, {}, other)).data?.ledgerCheckpoint).toBeNull();
    expect((await server.gql(CONSISTENCY, { f: 3, t: 99 }, t.token)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await server.gql(CONSISTENCY, { f: 5, t: 3 }, t.token)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // No checkpoint has that size (sizes 1–8 may all have one, depending on the sealer's rounds).
    expect((await server.gql(INCLUSION, { id: firstEntry.entry_id, s: 100 }, t.token)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const noRole = await tokenFor('ll-pristine', [], 'nobody');
    expect((await server.gql(CHECKPOINT, {}, noRole)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  }, 60_000);

  /** Rewrites a plan's chain from `seq` on, after `edit` changed that entry: the chain verifies again. */
  async function rewriteChain(tenant: string, planId: string, seq: number, edit: (e: Entry) => Entry) {
    const chain = await ledger().find({ tenant_id: tenant, plan_id: planId }).sort({ seq: 1 }).toArray();
    let prev: string | null = seq > 1 ? (chain[seq - 2]!.hash as string) : null;
    for (const original of chain.slice(seq - 1)) {
      const e = original.seq === seq ? edit({ ...original }) : { ...original };
      e.prev_hash = prev;
      e.hash = hashLedgerEntry(e as never);
      prev = e.hash as string;
      await ledger().replaceOne({ _id: e._id }, e);
    }
  }

  const expectCaught = async (t: Tenant, expected: { firstBadLeafIndex: number | null; planBrokenAt?: number | null }) => {
    const result = await verifyCheckpoint(t);
    expect(result.valid).toBe(false);
    expect(result.firstBadLeafIndex).toBe(expected.firstBadLeafIndex);
    if (expected.planBrokenAt !== undefined) {
      const plan = await verifyPlan(t, t.planA);
      expect(plan.valid).toBe(false);
      if (expected.planBrokenAt !== null) expect(plan.brokenAtSeq).toBe(expected.planBrokenAt);
    }
    const audit = await offlineAudit(t);
    expect(audit.ok).toBe(false);
    expect((await witness(t)).length).toBeGreaterThan(0);
    return audit;
  };

  const leafIndexOf = async (tenant: string, entryId: string) => (await leaves().findOne({ tenant_id: tenant, entry_id: entryId }))!.index as number;

  it('catches an edited entry whose chain was recomputed to match', async () => {
    const t = await seedTenant('ll-edit');
    await rewriteChain(t.name, t.planA, 3, (e) => ({ ...e, data: { ...(e.data as object), forged: true } }));
    // The chain alone would say valid: only the checkpoint shows it.
    expect((await server.running.services.queries.verifyLedger({ tenantId: t.name } as never, t.planA)).valid).toBe(true);
    const third = (await ledger().findOne({ tenant_id: t.name, plan_id: t.planA, seq: 3 }))!;
    await expectCaught(t, { firstBadLeafIndex: await leafIndexOf(t.name, third.entry_id), planBrokenAt: 3 });
  }, 60_000);

  it('catches sealed entries deleted with the plan document fixed to match', async () => {
    const t = await seedTenant('ll-delete');
    const cut = await ledger().find({ tenant_id: t.name, plan_id: t.planA, seq: { $gte: 4 } }).toArray();
    await ledger().deleteMany({ _id: { $in: cut.map((e) => e._id) } });
    await server.db.collection('plans').updateOne({ _id: t.planA as never }, { $set: { event_count: 3 } });
    expect((await server.running.services.queries.verifyLedger({ tenantId: t.name } as never, t.planA)).valid).toBe(true);
    const first = Math.min(...(await Promise.all(cut.map((e) => leafIndexOf(t.name, e.entry_id)))));
    await expectCaught(t, { firstBadLeafIndex: first, planBrokenAt: 4 });
  }, 60_000);

  it('catches leaves reordered in the log', async () => {
    const t = await seedTenant('ll-reorder');
    const [a, b] = await leaves().find({ tenant_id: t.name, index: { $in: [2, 5] } }).sort({ index: 1 }).toArray();
    const swap = (x: Document, y: Document) => ({ entry_id: y.entry_id, entry_key: y.entry_key, leaf_hash: y.leaf_hash, x: x._id });
    // Lookups must follow, or the unique entry index would refuse: move both out of the way first.
    await leaves().updateOne({ _id: a!._id }, { $set: { entry_id: 'tmp' } });
    await leaves().updateOne({ _id: b!._id }, { $set: (({ x: _x, ...rest }) => rest)(swap(b!, a!)) });
    await leaves().updateOne({ _id: a!._id }, { $set: (({ x: _x, ...rest }) => rest)(swap(a!, b!)) });
    await server.db.collection(LEDGER_LOG_COLLECTIONS.entryLeaves).updateOne({ entry_id: a!.entry_id }, { $set: { index: 5 } });
    await server.db.collection(LEDGER_LOG_COLLECTIONS.entryLeaves).updateOne({ entry_id: b!.entry_id }, { $set: { index: 2 } });
    await expectCaught(t, { firstBadLeafIndex: 2 });
  }, 60_000);

  it('catches a replaced checkpoint (a root the key never signed)', async () => {
    const t = await seedTenant('ll-replace');
    await rewriteChain(t.name, t.planA, 2, (e) => ({ ...e, actor: 'mallory' }));
    // The forger recomputes the root of the edited log and stores it in the latest checkpoint, keeping the old signature.
    const latest = await server.db.collection(LEDGER_LOG_COLLECTIONS.checkpoints).findOne({ tenant_id: t.name, tree_size: 8 });
    const forgedRoot = createHash('sha256').update('forged').digest('hex');
    await server.db.collection(LEDGER_LOG_COLLECTIONS.checkpoints).updateOne({ _id: latest!._id }, { $set: { root_hash: forgedRoot, note: (latest!.note as string).replace(latest!.root_hash as string, forgedRoot) } });
    const result = await verifyCheckpoint(t);
    expect(result).toMatchObject({ valid: false, treeSize: 8 });
    expect((await verifyPlan(t, t.planA)).valid).toBe(false);
    const audit = await offlineAudit(t);
    expect(audit.ok).toBe(false);
    expect(audit.problems.join('\n')).toMatch(/checkpoint 8: the signature does not verify/);
    expect((await witness(t)).length).toBeGreaterThan(0);
  }, 60_000);

  it('catches the log rolled back to an older size', async () => {
    const t = await seedTenant('ll-rollback');
    // Back to the first 5 leaves, with every later checkpoint and node gone.
    await leaves().deleteMany({ tenant_id: t.name, index: { $gte: 5 } });
    await server.db.collection(LEDGER_LOG_COLLECTIONS.checkpoints).deleteMany({ tenant_id: t.name, tree_size: { $gt: 5 } });
    const result = await verifyCheckpoint(t);
    expect(result.valid).toBe(false);
    const audit = await offlineAudit(t);
    expect(audit.ok).toBe(false);
    expect(audit.problems.join('\n')).toMatch(/saved checkpoint 7 covers more leaves than the export holds/);
    expect((await witness(t))[0]).toMatch(/older than the saved 7|is not a prefix/);
  }, 60_000);
});
