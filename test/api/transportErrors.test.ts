import { describe, expect, it } from '@jest/globals';
import { transportErrorAnswer } from '../../src/server/transportErrors.js';

// The body parser's errors by type; the server tests (clientErrors.test.ts) send the ones a
// client can cause. These are the ones it cannot: the parser's own failures are server errors.
describe('transportErrorAnswer', () => {
  it('answers a body cut short or of the wrong length as BAD_REQUEST', () => {
    expect(transportErrorAnswer({ type: 'request.aborted', status: 400 }, 1024)).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    expect(transportErrorAnswer({ type: 'request.size.invalid', status: 400 }, 1024)).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    expect(transportErrorAnswer({ type: 'entity.verify.failed', status: 403 }, 1024)).toMatchObject({ status: 403, code: 'BAD_REQUEST' });
  });

  it('answers the parser’s own failures, and anything unknown, as INTERNAL_SERVER_ERROR', () => {
    for (const err of [{ type: 'stream.not.readable', status: 500 }, { type: 'stream.encoding.set', status: 500 }, new Error('x'), null, 'text']) {
      expect(transportErrorAnswer(err, 1024)).toEqual({ status: 500, code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' });
    }
  });

  it('echoes an encoding or charset only when it is a short plain token', () => {
    expect(transportErrorAnswer({ type: 'encoding.unsupported', encoding: 'x-<script>' }, 1024).message).toMatch(/^Content-Encoding is not supported/);
    expect(transportErrorAnswer({ type: 'charset.unsupported', charset: 'latin1' }, 1024).message).toBe('charset "latin1" is not supported; send UTF-8 JSON');
  });
});
