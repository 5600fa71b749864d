import { describe, expect, it } from '@jest/globals';
import { AppError, ERROR_CODES, isAppError } from '../../src/domain/errors.js';

describe('AppError', () => {
  it('carries a contract code, a message and optional safe details', () => {
    const error = new AppError('NOT_FOUND', 'Plan not found', { plan_id: 'p1' });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('AppError');
    expect(error.message).toBe('Plan not found');
    expect(error.code).toBe('NOT_FOUND');
    expect(error.details).toEqual({ plan_id: 'p1' });
    expect(new AppError('CONFLICT', 'Lost a race').details).toBeUndefined();
  });

  it('is told apart from other errors', () => {
    expect(isAppError(new AppError('FORBIDDEN', 'no'))).toBe(true);
    expect(isAppError(new Error('no'))).toBe(false);
    expect(isAppError({ code: 'FORBIDDEN', message: 'no' })).toBe(false);
    expect(isAppError(undefined)).toBe(false);
  });

  it('knows exactly the error codes of the API contract', () => {
    expect([...ERROR_CODES].sort()).toEqual(
      [
        'UNAUTHENTICATED',
        'FORBIDDEN',
        'BAD_USER_INPUT',
        'NOT_FOUND',
        'INVALID_TRANSITION',
        'CONFLICT',
        'PROPOSAL_REJECTED',
        'LLM_UNAVAILABLE',
        'VERIFICATION_PENDING',
        'INTERNAL_SERVER_ERROR',
      ].sort(),
    );
  });
});
