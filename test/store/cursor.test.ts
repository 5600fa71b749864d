import { describe, expect, it } from '@jest/globals';
import { SeqCursorSchema, TimeIdCursorSchema, clampPageSize, decodeCursor, encodeCursor, toPage } from '../../src/store/cursor.js';

describe('cursors', () => {
  it('round-trip a position', () => {
    const c = encodeCursor({ k: 'seq', s: 7 });
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(c, SeqCursorSchema)).toEqual({ k: 'seq', s: 7 });
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'a b!'],
    ['not JSON', Buffer.from('{nope').toString('base64url')],
    ['wrong shape', encodeCursor({ k: 'seq', s: 'x' })],
    ['extra fields', encodeCursor({ k: 'seq', s: 1, evil: true })],
    ['another list', encodeCursor({ k: 'plans', t: 1, id: 'x' })],
    ['negative', encodeCursor({ k: 'seq', s: -1 })],
    ['too long', 'A'.repeat(5000)],
  ])('refuse %s with BAD_USER_INPUT', (_label, cursor) => {
    expect(() => decodeCursor(cursor, SeqCursorSchema)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
  });

  it('time cursors check their kind', () => {
    const c = encodeCursor({ k: 'feed', t: 5, id: 'e' });
    expect(decodeCursor(c, TimeIdCursorSchema('feed'))).toEqual({ k: 'feed', t: 5, id: 'e' });
    expect(() => decodeCursor(c, TimeIdCursorSchema('plans'))).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
  });

  it('clamps page sizes to 1..500, 50 by default', () => {
    expect([clampPageSize(undefined), clampPageSize(null), clampPageSize(0), clampPageSize(-3), clampPageSize(2.7), clampPageSize(10_000), clampPageSize(Number.NaN)]).toEqual([50, 50, 1, 1, 2, 500, 50]);
  });

  it('builds pages from first + 1 rows', () => {
    const page = toPage([1, 2, 3], 2, (n) => ({ k: 'seq', s: n }));
    expect(page.items).toEqual([1, 2]);
    expect(page.hasNextPage).toBe(true);
    expect(page.cursors).toHaveLength(2);
    expect(page.endCursor).toBe(page.cursors[1]);
    expect(toPage([], 2, (n: number) => ({ s: n }))).toEqual({ items: [], hasNextPage: false, endCursor: null, cursors: [] });
  });
});
