import { describe, expect, it } from '@jest/globals';
import { decodeGlobalId, encodeGlobalId } from '../../src/domain/globalId.js';

describe('global object ids', () => {
  it('round-trip a type name and any local id, opaque and stable', () => {
    for (const localId of ['p-1', '6f1c0a7e-1b2c-4d5e-8f90-a1b2c3d4e5f6', 'a:b:c', 'ünïcödé ✓', 'x'.repeat(512)]) {
      const id = encodeGlobalId('Plan', localId);
      expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(encodeGlobalId('Plan', localId)).toBe(id);
      expect(decodeGlobalId(id)).toEqual({ typename: 'Plan', localId });
    }
    expect(encodeGlobalId('Plan', 'x')).not.toBe(encodeGlobalId('LedgerEntry', 'x'));
  });

  it('refuses a name that is not a GraphQL type name when encoding', () => {
    expect(() => encodeGlobalId('Not a type', 'x')).toThrow('not a GraphQL type name');
  });

  it('decode to null whatever this API did not issue', () => {
    const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
    const notIssued = [
      '',
      'not base64!',
      'UGxhbjpw=', // padded: not the canonical spelling
      b64('Plan:pq').slice(0, -1) + 'R', // trailing bits set: a second spelling of 'Plan:pq'
      b64('Plan'), // no separator
      b64(':p-1'), // no type name
      b64('Plan:'), // no local id
      b64('9Plan:p'), // not a type name
      b64(`Plan:${'x'.repeat(513)}`), // overlong local id
      'A'.repeat(2000), // overlong text
      Buffer.from([0x50, 0x3a, 0xff, 0xfe]).toString('base64url'), // not UTF-8
    ];
    for (const id of notIssued) expect(decodeGlobalId(id)).toBeNull();
  });
});
