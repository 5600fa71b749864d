import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { canonicalEncode } from '../../src/domain/canonicalEncoding.js';
import { toStorableJson } from '../../src/domain/storableJson.js';
import { hashLedgerEntry, utcDay } from '../../src/store/ledgerHash.js';

const entry = {
  entry_id: 'e1',
  plan_id: 'p1',
  tenant_id: 't1',
  account_id: 'a1',
  event_type: 'PLAN_CREATED',
  timestamp: new Date('2026-01-02T03:04:05.678Z'),
  seq: 1,
  actor: 'alice',
  data: { b: [1, { y: 2, x: 1 }], a: 'x', when: new Date(0) },
  prev_hash: null,
};

describe('canonical encoding and hash', () => {
  it('ignores key order at every depth, keeps array order, tags dates', () => {
    expect(canonicalEncode({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
    expect(canonicalEncode({ a: { c: null, d: [2, 1] }, b: 1 })).toBe(canonicalEncode({ b: 1, a: { d: [2, 1], c: null } }));
    expect(canonicalEncode(new Date(0))).toBe('{"$date":"1970-01-01T00:00:00.000Z"}');
    expect(canonicalEncode(new Date(0))).not.toBe(canonicalEncode('1970-01-01T00:00:00.000Z'));
    expect(canonicalEncode({ a: undefined, b: -0 })).toBe('{"b":0}');
    expect(() => canonicalEncode(Number.NaN)).toThrow();
    expect(() => canonicalEncode(() => 1)).toThrow();
  });

  it('keeps one text for good: every stored hash covers it (pinned from the first encoder)', () => {
    const value = { z: [true, false, null, undefined, 1.5, -0, 'é"\\\n\u2028', { '': 1, ä: 2, B: 3, a: [] }], a: {}, m: new Date(86_400_000), u: undefined, n: -12e-7, big: 2 ** 53 };
    const text = canonicalEncode(value);
    expect(text).toBe('{"a":{},"big":9007199254740992,"m":{"$date":"1970-01-02T00:00:00.000Z"},"n":-0.0000012,"z":[true,false,null,null,1.5,0,"é\\"\\\\\\n\u2028",{"":1,"B":3,"a":[],"ä":2}]}');
    expect(createHash('sha256').update(text).digest('hex')).toBe('ec0ccff87d0da35553b2d95cc9cb99f3b212577b23d4d99c2c762ca9dd32234d');
    expect(canonicalEncode([])).toBe('[]');
    expect(canonicalEncode({ a: undefined })).toBe('{}');
    expect(() => canonicalEncode(Infinity)).toThrow('non-finite');
    expect(() => canonicalEncode(Symbol('s'))).toThrow('unsupported symbol');
    expect(() => canonicalEncode(BigInt(1))).toThrow('unsupported bigint');
  });

  it('hashes the same entry the same way, and any field change differently', () => {
    const h = hashLedgerEntry(entry);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(hashLedgerEntry({ ...entry, data: { when: new Date(0), a: 'x', b: [1, { x: 1, y: 2 }] } })).toBe(h);
    for (const change of [
      { seq: 2 },
      { prev_hash: 'f'.repeat(64) },
      { actor: null },
      { timestamp: new Date(entry.timestamp.getTime() + 1) },
      { data: { ...entry.data, a: 'y' } },
      { account_id: 'a2' },
      { entry_id: 'e2' },
    ]) {
      expect(hashLedgerEntry({ ...entry, ...change })).not.toBe(h);
    }
  });

  it('day is the UTC calendar day', () => {
    expect(utcDay(new Date('2026-03-01T23:59:59.999-05:00'))).toBe('2026-03-02');
  });
});

describe('toStorableJson', () => {
  it('keeps JSON and dates, drops undefined, normalizes -0', () => {
    const d = new Date(5);
    expect(toStorableJson({ a: 1, b: undefined, c: [undefined, 'x'], d, e: -0, f: { g: true } })).toEqual({ a: 1, c: [null, 'x'], d, e: 0, f: { g: true } });
  });

  it.each([
    ['NaN', { n: Number.NaN }],
    ['Infinity', { n: Infinity }],
    ['a $ key', { $where: 1 }],
    ['a dotted key', { 'a.b': 1 }],
    ['an invalid date', { d: new Date(Number.NaN) }],
    ['a class instance', { m: new Map() }],
    ['a function', { f: () => 1 }],
    ['deep nesting', JSON.parse('{"a":'.repeat(70) + '1' + '}'.repeat(70)) as unknown],
  ])('refuses %s with BAD_USER_INPUT', (_label, value) => {
    expect(() => toStorableJson(value, 'data')).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
  });
});
