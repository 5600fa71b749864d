import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Document } from 'mongodb';
import { ensureIndexes } from '../../src/store/indexes.js';
import { capabilitiesFromBuildInfo, detectStoreCapabilities, idLookupIndexedFromExplain, resolveCapabilities } from '../../src/store/storeCapabilities.js';
import { openTestDb, testStoreProfile, type TestDb } from '../support/testDb.js';

const profile = await testStoreProfile();

let t: TestDb;
beforeAll(async () => {
  t = await openTestDb('caps');
  await ensureIndexes(t.db);
});
afterAll(async () => {
  await t.close();
});

describe('store capabilities', () => {
  it('reads buildInfo: MongoDB is an indexed store, FerretDB v1 pushes down {_id} only, v2 uses indexes', () => {
    expect(capabilitiesFromBuildInfo({ version: '7.0.12' })).toEqual({ idOnlyPushdown: false, idLookupIndexed: true });
    expect(capabilitiesFromBuildInfo({ version: '7.0.42', ferretdbVersion: 'v1.24.2' })).toEqual({ idOnlyPushdown: true, idLookupIndexed: false });
    expect(capabilitiesFromBuildInfo({ ferretdbVersion: 'unknown' })).toMatchObject({ idOnlyPushdown: true });
    expect(capabilitiesFromBuildInfo({ ferretdbVersion: 'v2.1.0' })).toEqual({ idOnlyPushdown: false, idLookupIndexed: true });
  });

  it('reads SQLite query plans: an index search, or a scan', () => {
    expect(idLookupIndexedFromExplain({ queryPlanner: { Plan: ['id=2 parent=0 notused=0 detail=SCAN plan_ledger_30b2d69e'] } })).toBe(false);
    expect(idLookupIndexedFromExplain({ queryPlanner: { Plan: ['id=3 parent=0 notused=0 detail=SEARCH plan_ledger_30b2d69e USING INDEX plan_ledger_30b2d69e__id_ (<expr>=?)'] } })).toBe(true);
    expect(idLookupIndexedFromExplain({ queryPlanner: { winningPlan: {} } })).toBe(false);
  });

  it('detects the store the tests run on, once per Db', async () => {
    const build = (await t.db.admin().command({ buildInfo: 1 })) as Document;
    const detected = await detectStoreCapabilities(t.db);
    expect(detected.idOnlyPushdown).toBe(typeof build.ferretdbVersion === 'string');
    const lazy = resolveCapabilities(t.db, undefined);
    expect(await lazy()).toEqual(detected);
    expect(lazy()).toBe(lazy());
    const given = resolveCapabilities(t.db, { idOnlyPushdown: true, idLookupIndexed: true });
    expect(await given()).toEqual({ idOnlyPushdown: true, idLookupIndexed: true });
  });

  (profile.ferretdb ? it.skip : it)(`detects MongoDB as an indexed store ${profile.ferretdb ? profile.needs('MongoDB') : ''}`.trim(), async () => {
    expect(await detectStoreCapabilities(t.db)).toMatchObject({ idOnlyPushdown: false, idLookupIndexed: true });
  });
});
