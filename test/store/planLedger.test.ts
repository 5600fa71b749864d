import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { LedgerEntryRecord } from '../../src/domain/ledger.js';
import { PLAN_LEDGER_COLLECTION, ensureIndexes } from '../../src/store/indexes.js';
import { hashLedgerEntry } from '../../src/store/ledgerHash.js';
import { PlanLedger, ledgerEntryKey } from '../../src/store/PlanLedger.js';
import { chainAppender, type NextEntry } from '../support/ledgerAppends.js';
import { openTestDb, type TestDb } from '../support/testDb.js';
import { memoryLogger, rejectionCode } from './storeFixtures.js';

describe('PlanLedger', () => {
  let t: TestDb;
  let ledger: PlanLedger;
  /** Appends at the end of a plan's chain as PlanStore does (event n at seq n). */
  let append: (entry: NextEntry) => Promise<LedgerEntryRecord>;
  const logger = memoryLogger();

  beforeAll(async () => {
    t = await openTestDb('ledger');
    await ensureIndexes(t.db);
    ledger = new PlanLedger(t.db, { logger });
    append = chainAppender(ledger);
  });
  afterAll(async () => {
    await t.close();
  });

  const event = (planId: string, overrides: Partial<NextEntry> = {}): NextEntry => ({
    plan_id: planId,
    tenant_id: 't1',
    account_id: 'acc-1',
    event_type: 'PLAN_UPDATED',
    actor: 'alice',
    data: { n: 1 },
    ...overrides,
  });

  /** The entry at seq `seq` of a plan, with its position's id, as PlanStore appends event `seq`. */
  const at = (seq: number, entry: NextEntry, w: PlanLedger = ledger) =>
    w.append({ ...entry, entry_id: ledgerEntryKey(entry.tenant_id, entry.plan_id, seq) }, { expectedSeq: seq });

  /** Appends n events to a fresh plan, one after another. */
  async function chain(n: number, overrides: Partial<NextEntry> = {}): Promise<string> {
    const planId = randomUUID();
    for (let i = 1; i <= n; i++) await append(event(planId, { data: { i }, ...overrides }));
    return planId;
  }

  const raw = () => t.db.collection<{ _id: string } & Record<string, unknown>>(PLAN_LEDGER_COLLECTION);

  describe('append', () => {
    it('assigns seq, prev_hash, hash and day, and stores exactly what it returns', async () => {
      const planId = randomUUID();
      const ts = new Date('2026-05-04T23:30:00.000Z');
      const first = await append(event(planId, { event_type: 'PLAN_CREATED', timestamp: ts, data: { nested: { b: 2, a: [1, undefined] }, at: ts } }));
      const second = await append(event(planId));
      expect(first).toMatchObject({ seq: 1, prev_hash: null, day: '2026-05-04', timestamp: ts });
      expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(second).toMatchObject({ seq: 2, prev_hash: first.hash });
      expect((await ledger.listByPlan('t1', planId)).items[0]).toEqual(first);
      expect(first.data).toEqual({ nested: { b: 2, a: [1, null] }, at: ts });
      expect(await ledger.verify('t1', planId)).toEqual({ plan_id: planId, valid: true, entries: 2, broken_at_seq: null });
    });

    it('is idempotent by entry_id, and refuses an id that another plan uses', async () => {
      const planId = randomUUID();
      const a = await at(1, event(planId));
      const b = await at(1, event(planId, { data: { other: true } }));
      expect(b).toEqual(a);
      // Racing appends of one entry id, also from writers that share no queue: stored once.
      const writers = Array.from({ length: 5 }, () => new PlanLedger(t.db, { logger }));
      const concurrent = await Promise.all(Array.from({ length: 10 }, (_, i) => at(2, event(planId), writers[i % 5]!)));
      expect(new Set(concurrent.map((e) => `${e.entry_id}/${e.seq}/${e.hash}`)).size).toBe(1);
      // An id is its position's key: another plan's id is no id for this one.
      const other = randomUUID();
      const stolen = { ...event(other), entry_id: a.entry_id };
      expect(await rejectionCode(ledger.append(stolen, { expectedSeq: 1 }))).toBe('BAD_USER_INPUT');
      // A position held by another entry (written past the ledger) is not taken over.
      await raw().insertOne({ _id: ledgerEntryKey('t1', other, 1), entry_id: 'foreign', tenant_id: 't1', plan_id: other, seq: 1 });
      expect(await rejectionCode(at(1, event(other)))).toBe('CONFLICT');
      expect(await raw().countDocuments({ tenant_id: 't1', plan_id: planId })).toBe(2);
      expect(await raw().countDocuments({ tenant_id: 't1', plan_id: other })).toBe(1);
    });

    it('appends only at a position after a stored entry', async () => {
      const planId = randomUUID();
      // Seq 2 of an empty chain: the chain is shorter than the caller's count.
      expect(await rejectionCode(at(2, event(planId)))).toBe('INTERNAL_SERVER_ERROR');
      expect(logger.lines.some((l) => l.level === 'error' && /before this seq is missing/.test(l.msg))).toBe(true);
      await at(1, event(planId));
      // With the previous hash given (PlanStore's ledger_hash), no read of seq 1.
      const first = (await ledger.listByPlan('t1', planId)).items[0]!;
      const second = await ledger.append({ ...event(planId), entry_id: ledgerEntryKey('t1', planId, 2) }, { expectedSeq: 2, prevHash: first.hash });
      expect(second).toMatchObject({ seq: 2, prev_hash: first.hash });
      expect(await ledger.verify('t1', planId)).toMatchObject({ valid: true, entries: 2 });
    });

    it('rejects malformed entries and data the store cannot keep', async () => {
      const planId = randomUUID();
      expect(await rejectionCode(at(1, { ...event(planId), event_type: 'NOPE' as never }))).toBe('BAD_USER_INPUT');
      expect(await rejectionCode(at(1, event(planId, { tenant_id: '' })))).toBe('BAD_USER_INPUT');
      expect(await rejectionCode(at(1, event(planId, { data: { 'a.b': 1 } })))).toBe('BAD_USER_INPUT');
      expect(await rejectionCode(at(1, event(planId, { data: { n: Number.NaN } })))).toBe('BAD_USER_INPUT');
      expect(await rejectionCode(at(1, event(planId, { timestamp: new Date(Number.NaN) })))).toBe('BAD_USER_INPUT');
      // A position that is none, and an id that is not the key of its position.
      for (const seq of [0, -1, 1.5, Number.NaN]) {
        expect(await rejectionCode(ledger.append({ ...event(planId), entry_id: ledgerEntryKey('t1', planId, 1) }, { expectedSeq: seq }))).toBe('BAD_USER_INPUT');
      }
      expect(await rejectionCode(ledger.append({ ...event(planId), entry_id: randomUUID() }, { expectedSeq: 1 }))).toBe('BAD_USER_INPUT');
      expect(await rejectionCode(ledger.append({ ...event(planId), entry_id: ledgerEntryKey('t1', planId, 2) }, { expectedSeq: 1 }))).toBe('BAD_USER_INPUT');
      expect(await raw().countDocuments({ plan_id: planId })).toBe(0);
    });

    it('100 parallel appends to one plan give seq 1..100 and a valid chain', async () => {
      const planId = randomUUID();
      // Each at its own seq, all at once: one ledger queues a plan's appends in call order.
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => append(event(planId, { data: { i } }))));
      expect(results.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect(await ledger.verify('t1', planId)).toEqual({ plan_id: planId, valid: true, entries: 100, broken_at_seq: null });
    });

    it('writers that do not share a queue (other processes) are serialized by the unique seq index', async () => {
      const planId = randomUUID();
      const writers = Array.from({ length: 5 }, () => new PlanLedger(t.db, { logger }));
      // Every writer appends the same 40 events (as processes completing the same pending events
      // do), racing for each position: each seq is stored once, and every writer gets it.
      const timestamp = new Date();
      const results = await Promise.all(
        writers.map(async (w) => {
          const mine = [];
          for (let seq = 1; seq <= 40; seq++) mine.push(await at(seq, event(planId, { data: { seq }, timestamp }), w));
          return mine;
        }),
      );
      expect(results[0]!.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      for (const mine of results) expect(mine).toEqual(results[0]);
      expect(await raw().countDocuments({ tenant_id: 't1', plan_id: planId })).toBe(40);
      expect((await ledger.verify('t1', planId)).valid).toBe(true);
    });
  });

  describe('verify finds tampering through the driver', () => {
    const entryAt = async (planId: string, seq: number) => (await raw().findOne({ tenant_id: 't1', plan_id: planId, seq }))!;

    it('edited data', async () => {
      const planId = await chain(5);
      await raw().updateOne({ _id: (await entryAt(planId, 3))._id }, { $set: { 'data.i': 99 } });
      expect(await ledger.verify('t1', planId)).toEqual({ plan_id: planId, valid: false, entries: 5, broken_at_seq: 3 });
    });

    it('edited timestamp (day kept, or day edited too)', async () => {
      const planId = await chain(4);
      const e2 = await entryAt(planId, 2);
      await raw().updateOne({ _id: e2._id }, { $set: { timestamp: new Date((e2.timestamp as Date).getTime() + 1000) } });
      expect((await ledger.verify('t1', planId)).broken_at_seq).toBe(2);
      const other = await chain(3);
      await raw().updateOne({ _id: (await entryAt(other, 1))._id }, { $set: { timestamp: 'yesterday' } });
      expect((await ledger.verify('t1', other)).broken_at_seq).toBe(1);
    });

    it('edited hash (rewritten to match its own data does not help: the next link breaks)', async () => {
      const planId = await chain(4);
      await raw().updateOne({ _id: (await entryAt(planId, 4))._id }, { $set: { hash: 'a'.repeat(64) } });
      expect((await ledger.verify('t1', planId)).broken_at_seq).toBe(4);

      const other = await chain(4);
      const e2 = (await ledger.listByPlan('t1', other)).items[1]!;
      const forged = { ...e2, data: { i: 42 } };
      await raw().updateOne({ _id: e2.entry_id }, { $set: { data: forged.data, hash: hashLedgerEntry(forged) } });
      expect((await ledger.verify('t1', other)).broken_at_seq).toBe(3);
    });

    it('a deleted entry: the seq where the gap shows', async () => {
      const planId = await chain(5);
      await raw().deleteOne({ _id: (await entryAt(planId, 2))._id });
      expect(await ledger.verify('t1', planId)).toEqual({ plan_id: planId, valid: false, entries: 4, broken_at_seq: 2 });
      const first = await chain(3);
      await raw().deleteOne({ _id: (await entryAt(first, 1))._id });
      expect((await ledger.verify('t1', first)).broken_at_seq).toBe(1);
    });

    it('a deleted last entry is caught when the expected count is known', async () => {
      const planId = await chain(3);
      await raw().deleteOne({ _id: (await entryAt(planId, 3))._id });
      expect((await ledger.verify('t1', planId)).valid).toBe(true);
      expect(await ledger.verify('t1', planId, { expectedEntries: 3 })).toEqual({ plan_id: planId, valid: false, entries: 2, broken_at_seq: 3 });
    });

    it('two swapped seqs', async () => {
      const planId = await chain(5);
      const e3 = await entryAt(planId, 3);
      const e4 = await entryAt(planId, 4);
      await raw().updateOne({ _id: e3._id }, { $set: { seq: 1000 } });
      await raw().updateOne({ _id: e4._id }, { $set: { seq: 3 } });
      await raw().updateOne({ _id: e3._id }, { $set: { seq: 4 } });
      expect((await ledger.verify('t1', planId)).broken_at_seq).toBe(3);
    });

    it('an empty or unknown chain is valid with 0 entries', async () => {
      expect(await ledger.verify('t1', 'nope')).toEqual({ plan_id: 'nope', valid: true, entries: 0, broken_at_seq: null });
    });
  });

  describe('reads', () => {
    it('listByPlan pages oldest first with opaque cursors', async () => {
      const planId = await chain(7);
      const seen: number[] = [];
      let after: string | null = null;
      let pages = 0;
      do {
        const page: Awaited<ReturnType<PlanLedger['listByPlan']>> = await ledger.listByPlan('t1', planId, { first: 3, after });
        expect(page.cursors).toHaveLength(page.items.length);
        seen.push(...page.items.map((e) => e.seq));
        after = page.hasNextPage ? page.endCursor : null;
        pages += 1;
      } while (after);
      expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(pages).toBe(3);
      expect(await rejectionCode(ledger.listByPlan('t1', planId, { after: 'garbage!' }))).toBe('BAD_USER_INPUT');
    });

    it('listByPlans returns first pages of many plans from one query', async () => {
      const a = await chain(4);
      const b = await chain(1);
      const pages = await ledger.listByPlans('t1', [a, b, 'missing', a], 2);
      expect(pages.get(a)!.items.map((e) => e.seq)).toEqual([1, 2]);
      expect(pages.get(a)!.hasNextPage).toBe(true);
      expect(pages.get(b)!.items.map((e) => e.seq)).toEqual([1]);
      expect(pages.get(b)!.hasNextPage).toBe(false);
      expect(pages.get('missing')!.items).toEqual([]);
      const next = await ledger.listByPlan('t1', a, { first: 2, after: pages.get(a)!.endCursor });
      expect(next.items.map((e) => e.seq)).toEqual([3, 4]);
    });

    it('listForTenant: newest first across plans, oldest first for one plan, with filters', async () => {
      const tenant = `feed-${randomUUID()}`;
      const base = Date.parse('2026-02-01T00:00:00.000Z');
      const p1 = randomUUID();
      const p2 = randomUUID();
      for (let i = 0; i < 6; i++) {
        await append(event(i % 2 ? p1 : p2, { tenant_id: tenant, account_id: i % 2 ? 'acc-a' : 'acc-b', event_type: i < 2 ? 'PLAN_CREATED' : 'PLAN_UPDATED', timestamp: new Date(base + i * 3_600_000) }));
      }
      // Same timestamp for two entries: the id breaks the tie.
      await append(event(p1, { tenant_id: tenant, account_id: 'acc-a', timestamp: new Date(base + 5 * 3_600_000) }));

      const all: string[] = [];
      let after: string | null = null;
      do {
        const page: Awaited<ReturnType<PlanLedger['listForTenant']>> = await ledger.listForTenant(tenant, {}, { first: 2, after });
        all.push(...page.items.map((e) => e.entry_id));
        after = page.hasNextPage ? page.endCursor : null;
      } while (after);
      const everything = (await ledger.listForTenant(tenant, {}, { first: 500 })).items;
      expect(all).toEqual(everything.map((e) => e.entry_id));
      expect(everything).toHaveLength(7);
      const times = everything.map((e) => e.timestamp.getTime());
      expect([...times].sort((a, b) => b - a)).toEqual(times);

      const story = (await ledger.listForTenant(tenant, { planId: p1 }, { first: 10 })).items;
      expect(story.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
      expect((await ledger.listForTenant(tenant, { accountId: 'acc-b' })).items.every((e) => e.account_id === 'acc-b')).toBe(true);
      expect((await ledger.listForTenant(tenant, { eventTypes: ['PLAN_CREATED'] })).items).toHaveLength(2);
      const windowed = await ledger.listForTenant(tenant, { since: new Date(base + 3_600_000), until: new Date(base + 3 * 3_600_000) });
      expect(windowed.items.map((e) => e.timestamp.getTime() - base)).toEqual([2 * 3_600_000, 3_600_000]);
      // A cursor of one list is no cursor of another.
      const feedCursor = (await ledger.listForTenant(tenant, {}, { first: 1 })).endCursor!;
      expect(await rejectionCode(ledger.listForTenant(tenant, { planId: p1 }, { after: feedCursor }))).toBe('BAD_USER_INPUT');
    });

    it('stats counts per event type per day in the database', async () => {
      const tenant = `stats-${randomUUID()}`;
      const day1 = Date.parse('2026-03-01T10:00:00.000Z');
      const day2 = Date.parse('2026-03-02T23:59:00.000Z');
      const p = randomUUID();
      const add = (event_type: NextEntry['event_type'], time: number) => append(event(p, { tenant_id: tenant, event_type, timestamp: new Date(time) }));
      await add('PLAN_CREATED', day1);
      await add('PLAN_UPDATED', day1);
      await add('PLAN_UPDATED', day1 + 1000);
      await add('PLAN_APPROVED', day2);
      expect(await ledger.stats(tenant)).toEqual([
        { event_type: 'PLAN_CREATED', day: '2026-03-01', count: 1 },
        { event_type: 'PLAN_UPDATED', day: '2026-03-01', count: 2 },
        { event_type: 'PLAN_APPROVED', day: '2026-03-02', count: 1 },
      ]);
      expect(await ledger.stats(tenant, { eventTypes: ['PLAN_UPDATED'] })).toEqual([{ event_type: 'PLAN_UPDATED', day: '2026-03-01', count: 2 }]);
      expect(await ledger.stats(tenant, { since: new Date(day2 - 1000) })).toEqual([{ event_type: 'PLAN_APPROVED', day: '2026-03-02', count: 1 }]);
      expect(await ledger.stats(`none-${randomUUID()}`)).toEqual([]);
    });

    it('never crosses tenants', async () => {
      const planId = await chain(3);
      const mine = (await ledger.listByPlan('t1', planId)).items;
      expect(mine).toHaveLength(3);
      expect((await ledger.listByPlan('t2', planId)).items).toEqual([]);
      expect((await ledger.listByPlans('t2', [planId], 10)).get(planId)!.items).toEqual([]);
      expect((await ledger.listForTenant('t2', { planId })).items).toEqual([]);
      expect((await ledger.listForTenant('t2')).items.filter((e) => e.entry_id === mine[0]!.entry_id)).toEqual([]);
      expect(await ledger.verify('t2', planId)).toMatchObject({ entries: 0 });
      expect((await ledger.stats('t2', { planId })).length).toBe(0);
      // Another tenant cannot append into this chain or reuse an entry id of it.
      await append(event(planId, { tenant_id: 't2' }));
      expect(await rejectionCode(ledger.append({ ...event(planId, { tenant_id: 't2' }), entry_id: mine[0]!.entry_id }, { expectedSeq: 1 }))).toBe('BAD_USER_INPUT');
      expect(await rejectionCode(ledger.append({ ...event(planId, { tenant_id: 't2' }), entry_id: mine[1]!.entry_id }, { expectedSeq: 2 }))).toBe('BAD_USER_INPUT');
      expect(await ledger.verify('t1', planId)).toMatchObject({ valid: true, entries: 3 });
    });

    it('a corrupted entry is a clear INTERNAL_SERVER_ERROR, its cause logged', async () => {
      const planId = await chain(2);
      await raw().updateOne({ tenant_id: 't1', plan_id: planId, seq: 2 }, { $set: { event_type: 'BOGUS' } });
      const before = logger.lines.length;
      await expect(ledger.listByPlan('t1', planId)).rejects.toMatchObject({ code: 'INTERNAL_SERVER_ERROR', message: expect.stringMatching(/stored ledger entry .* is invalid/) });
      expect(logger.lines.slice(before).some((l) => l.level === 'error' && /invalid/.test(l.msg))).toBe(true);
    });
  });
});

describe('ledgerEntryKey', () => {
  it('is the UUID v5 of "tenant\\nplan\\nseq" (stable: stored keys depend on it) and takes any string', async () => {
    const { v5 } = await import('uuid');
    const namespace = '1b7e0c52-4f0e-5d6a-9c38-2a1f6f1d9e47';
    for (const [tenant, plan, seq] of [['t1', 'p1', 1], ['tenant-é', 'plan-日本', 7]] as const) {
      expect(ledgerEntryKey(tenant, plan, seq)).toBe(v5(`${tenant}\n${plan}\n${seq}`, namespace));
      expect(ledgerEntryKey(tenant, plan, seq)).toBe(ledgerEntryKey(tenant, plan, seq));
    }
    expect(ledgerEntryKey('t1', 'lone \ud800 surrogate', 1)).toMatch(/^[0-9a-f-]{36}$/);
  });
});
