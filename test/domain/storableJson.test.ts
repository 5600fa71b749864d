import { describe, expect, it } from '@jest/globals';
import { assertSafeJson } from '../../src/graphql/scalars.js';
import { toStorableJson } from '../../src/domain/storableJson.js';

// One rule for free-form JSON: the API's JSON scalar and the store refuse the same keys (the
// store's own cases are in test/store/ledgerHash.test.ts).
describe('the one safe-JSON rule', () => {
  it.each([
    ['an empty key', { '': 1 }, 'is empty'],
    ['a key over 128 characters', { ['k'.repeat(129)]: 1 }, 'over 128 characters'],
    ['a key with a NUL', { 'a\0b': 1 }, 'contains NUL'],
    ['a $ key', { nested: { $gt: 1 } }, "starts with '\\$'"],
    ['a dotted key', { 'a.b': 1 }, "contains '.'"],
    // As JSON.parse makes them: own properties, not the prototype.
    ['a __proto__ key', JSON.parse('{"signal": {"__proto__": {"polluted": true}}}') as object, 'is reserved'],
    ['a __proto__ key holding a scalar', JSON.parse('{"__proto__": 1}') as object, 'is reserved'],
    ['a constructor key', { constructor: { prototype: 1 } }, 'is reserved'],
    ['a prototype key', [{ prototype: 'x' }], 'is reserved'],
  ])('store and API refuse %s', (_label, value, why) => {
    expect(() => toStorableJson(value, 'data')).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', message: expect.stringMatching(why) }));
    expect(() => assertSafeJson(value)).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT' }, message: expect.stringMatching(why) }));
  });

  it('keeps a 128-character key, and client JSON nests at most 10 levels where the store keeps 64', () => {
    expect(toStorableJson({ ['k'.repeat(128)]: 1 })).toEqual({ ['k'.repeat(128)]: 1 });
    const nest = (n: number): unknown => (n === 0 ? 1 : { a: nest(n - 1) });
    expect(() => assertSafeJson(nest(10))).not.toThrow();
    expect(() => assertSafeJson(nest(11))).toThrow(expect.objectContaining({ message: expect.stringMatching('nested too deeply') }));
    expect(toStorableJson(nest(11))).toEqual(nest(11));
  });
});
