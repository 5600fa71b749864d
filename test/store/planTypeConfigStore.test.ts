import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { PlanType } from '../../src/domain/enums.js';
import { parsePlanTypeConfigInput, toPlanTypeConfigInput } from '../../src/domain/playbookConfig.js';
import { playbookContentHash } from '../../src/domain/playbookDiff.js';
import { RENEWAL_DEFENSE_CONFIG } from '../../src/domain/planTypeConfig.js';
import { ensureIndexes } from '../../src/store/indexes.js';
import { PlanLedger } from '../../src/store/PlanLedger.js';
import { PlanTypeConfigStore, playbookChainId } from '../../src/store/planTypeConfigs/PlanTypeConfigStore.js';
import { PLAYBOOK_HEADS_COLLECTION, PLAYBOOK_VERSIONS_COLLECTION } from '../../src/store/planTypeConfigs/playbookIndexes.js';
import type { LedgerAppend, LedgerEntryRecord } from '../../src/domain/ledger.js';
import { openTestDb, type TestDb } from '../support/testDb.js';
import { memoryLogger, rejectionCode } from './storeFixtures.js';

const RD: PlanType = 'RENEWAL_DEFENSE';

/** A ledger whose process dies before (or right after) its append. */
class DyingLedger extends PlanLedger {
  constructor(
    db: TestDb['db'],
    private readonly when: 'before' | 'after',
  ) {
    super(db, { logger: memoryLogger() });
  }
  override async append(entry: LedgerAppend, options: { expectedSeq: number; prevHash?: string }): Promise<LedgerEntryRecord> {
    if (this.when === 'before') throw new Error('simulated crash before the append');
    await super.append(entry, options);
    throw new Error('simulated crash after the append');
  }
}

describe('PlanTypeConfigStore', () => {
  let t: TestDb;
  let ledger: PlanLedger;
  let store: PlanTypeConfigStore;
  const logger = memoryLogger();
  let tenantNo = 0;
  const tenant = () => `pb-tenant-${++tenantNo}`;

  beforeAll(async () => {
    t = await openTestDb('playbooks');
    await ensureIndexes(t.db);
    ledger = new PlanLedger(t.db, { logger });
    store = new PlanTypeConfigStore(t.db, { ledger, logger });
  });
  afterAll(async () => {
    await t.close();
  });

  const config = (change: (i: ReturnType<typeof toPlanTypeConfigInput>) => void = () => undefined) => {
    const input = structuredClone(toPlanTypeConfigInput(RENEWAL_DEFENSE_CONFIG));
    change(input);
    const { version: _v, ...parsed } = parsePlanTypeConfigInput(RD, input, 0);
    return parsed;
  };
  const draft = (s: PlanTypeConfigStore, tenantId: string, by = 'alice', change?: Parameters<typeof config>[0]) => {
    const c = config(change);
    return s.createDraft({ tenantId, planType: RD, config: c, contentHash: playbookContentHash({ ...c, version: 0 }), createdBy: by, basedOnVersion: 0, note: null });
  };

  it('numbers drafts 1, 2, … per tenant; publishing needs another admin (FORBIDDEN for the author)', async () => {
    const a = tenant();
    const b = tenant();
    expect((await draft(store, a)).version).toBe(1);
    expect((await draft(store, a)).version).toBe(2);
    expect((await draft(store, b)).version).toBe(1);
    expect(await rejectionCode(store.publish(a, RD, 1, 'alice'))).toBe('FORBIDDEN');
    expect((await store.head(a, RD)).published_version).toBe(0);
    const published = await store.publish(a, RD, 1, 'bob');
    expect(published).toMatchObject({ status: 'PUBLISHED', published_by: 'bob', version: 1 });
    expect(await store.head(a, RD)).toEqual({ published_version: 1, event_count: 1 });
    expect((await store.head(b, RD)).published_version).toBe(0);
    // Publishing 2 supersedes 1; a retry by the same admin returns it; 1 can no longer be published.
    await store.publish(a, RD, 2, 'bob');
    expect((await store.publish(a, RD, 2, 'bob')).status).toBe('PUBLISHED');
    expect(await rejectionCode(store.publish(a, RD, 1, 'bob'))).toBe('INVALID_TRANSITION');
    const list = await store.listVersions(a, RD);
    expect(list.map((v) => [v.version, v.status])).toEqual([
      [2, 'PUBLISHED'],
      [1, 'SUPERSEDED'],
    ]);
    expect(await rejectionCode(store.publish(a, RD, 9, 'bob'))).toBe('NOT_FOUND');
  });

  it('retires a draft; a retired or published version cannot be retired', async () => {
    const a = tenant();
    await draft(store, a);
    await draft(store, a);
    expect((await store.retire(a, RD, 1, 'alice')).status).toBe('RETIRED');
    expect(await rejectionCode(store.publish(a, RD, 1, 'bob'))).toBe('INVALID_TRANSITION');
    await store.publish(a, RD, 2, 'bob');
    expect(await rejectionCode(store.retire(a, RD, 2, 'alice'))).toBe('INVALID_TRANSITION');
    expect((await store.head(a, RD)).published_version).toBe(2);
  });

  it('publishing and retiring are entries of the playbook chain, with the actor and the content hash', async () => {
    const a = tenant();
    const v1 = await draft(store, a);
    await draft(store, a, 'alice', (i) => void (i.rules!.usageDropPercent = 30));
    await store.publish(a, RD, 1, 'bob');
    await store.retire(a, RD, 2, 'carol');
    const entries = (await ledger.listByPlan(a, playbookChainId(RD))).items;
    expect(entries.map((e) => [e.seq, e.event_type, e.actor, e.data.version])).toEqual([
      [1, 'PLAN_TYPE_CONFIG_PUBLISHED', 'bob', 1],
      [2, 'PLAN_TYPE_CONFIG_RETIRED', 'carol', 2],
    ]);
    expect(entries[0]!.data).toMatchObject({ plan_type: RD, content_hash: v1.content_hash, previous_version: 0 });
    expect(await store.verifyChain(a, RD)).toMatchObject({ valid: true, entries: 2 });
  });

  it('two store instances drafting or publishing at once: one wins, the other is CONFLICT', async () => {
    const other = new PlanTypeConfigStore(t.db, { ledger: new PlanLedger(t.db, { logger }), logger });
    for (let round = 0; round < 5; round++) {
      const a = tenant();
      const drafts = await Promise.allSettled([draft(store, a), draft(other, a)]);
      const won = drafts.filter((r) => r.status === 'fulfilled');
      // Both may pass when one read the number after the other's insert; never the same number twice.
      const numbers = won.map((r) => (r as PromiseFulfilledResult<{ version: number }>).value.version);
      expect(new Set(numbers).size).toBe(numbers.length);
      for (const r of drafts) if (r.status === 'rejected') expect((r.reason as { code: string }).code).toBe('CONFLICT');
      const publishes = await Promise.allSettled([store.publish(a, RD, 1, 'bob'), other.publish(a, RD, 1, 'carol')]);
      const codes = publishes.map((r) => (r.status === 'fulfilled' ? 'OK' : (r.reason as { code: string }).code)).sort();
      expect(codes).toEqual(['CONFLICT', 'OK']);
      expect((await store.verifyChain(a, RD)).entries).toBe(1);
    }
  });

  it.each(['before', 'after'] as const)('a publish whose process dies %s the ledger append is completed by the next read', async (when) => {
    const a = tenant();
    await draft(store, a);
    await store.publish(a, RD, 1, 'bob');
    await draft(store, a);
    const dying = new PlanTypeConfigStore(t.db, { ledger: new DyingLedger(t.db, when), logger });
    await expect(dying.publish(a, RD, 2, 'bob')).rejects.toThrow(/simulated crash/);
    // The head took the change (in force) with its pending event; the versions still say otherwise.
    const raw = await t.db.collection(PLAYBOOK_HEADS_COLLECTION).findOne({ tenant_id: a });
    expect(raw).toMatchObject({ published_version: 2, event_count: 2, pending_event: { version: 2, seq: 2 } });
    expect(await t.db.collection(PLAYBOOK_VERSIONS_COLLECTION).countDocuments({ tenant_id: a, status: 'DRAFT' })).toBe(1);
    expect((await store.head(a, RD)).published_version).toBe(2);
    // Any read through the store completes it: entry, statuses, cleared pending event.
    expect((await store.listVersions(a, RD)).map((v) => v.status)).toEqual(['PUBLISHED', 'SUPERSEDED']);
    expect(await t.db.collection(PLAYBOOK_HEADS_COLLECTION).findOne({ tenant_id: a })).toMatchObject({ pending_event: null });
    expect(await store.verifyChain(a, RD)).toMatchObject({ valid: true, entries: 2 });
    // A retry of the same publish returns it.
    expect((await store.publish(a, RD, 2, 'bob')).status).toBe('PUBLISHED');
  });

  it('the start-up sweep completes a pending publish no read has touched', async () => {
    const a = tenant();
    await draft(store, a);
    const dying = new PlanTypeConfigStore(t.db, { ledger: new DyingLedger(t.db, 'before'), logger });
    await expect(dying.publish(a, RD, 1, 'bob')).rejects.toThrow(/simulated crash/);
    expect(await store.settleAllPending()).toBeGreaterThanOrEqual(1);
    expect(await t.db.collection(PLAYBOOK_HEADS_COLLECTION).findOne({ tenant_id: a })).toMatchObject({ pending_event: null, published_version: 1 });
    expect((await ledger.listByPlan(a, playbookChainId(RD))).items.map((e) => e.event_type)).toEqual(['PLAN_TYPE_CONFIG_PUBLISHED']);
    expect(await store.settleAllPending()).toBe(0);
  });

  it('reads are tenant-scoped: another tenant sees nothing', async () => {
    const a = tenant();
    await draft(store, a);
    expect(await store.getVersion(tenant(), RD, 1)).toBeNull();
    expect(await store.listVersions(tenant(), RD)).toEqual([]);
  });
});
